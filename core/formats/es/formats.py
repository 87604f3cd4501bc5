"""Spanish as it is written in the United States and Mexico: dates and numbers on every page.

Day before month; numbers keep the decimal point and the thousands comma, as Spanish speakers in
the United States read them on every other document (Spain's ``1.234,5`` would misread as
one-point-two).
"""

DATE_FORMAT = "j b Y"  # 7 dic 2026
DATETIME_FORMAT = "j b Y, H:i"  # 7 dic 2026, 14:30
SHORT_DATETIME_FORMAT = "j b, H:i"  # 7 dic, 14:30
MONTH_DAY_FORMAT = "j b"  # 7 dic
TIME_FORMAT = "H:i"  # 14:30
YEAR_MONTH_FORMAT = r"F \d\e Y"  # diciembre de 2026
SHORT_DATE_FORMAT = "d/m/Y"  # 07/12/2026

DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
