"""Figures that combine the apps' data: the dashboard's, transparency's, the stats API's and the directories'."""
