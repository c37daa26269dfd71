#!/usr/bin/python3
"""The check-address floor: python3-email-validator on every line of a file.

    email_validator_floor.py [FILE]     (standard input without FILE)

Validates each non-empty line with validate_email(address,
check_deliverability=False) (syntax and IDNA only, no DNS), the way
`imaddr check-address` reads its standard input, and prints to standard
error how many were valid and invalid.
"""

import sys

from email_validator import EmailNotValidError, validate_email


def main():
    source = open(sys.argv[1], encoding="utf-8", errors="surrogateescape") \
        if len(sys.argv) > 1 else sys.stdin
    valid = invalid = 0
    for line in source:
        address = line.rstrip("\r\n")
        if not address:
            continue
        try:
            validate_email(address, check_deliverability=False)
            valid += 1
        except EmailNotValidError:
            invalid += 1
    print(f"email-validator: {valid} valid, {invalid} invalid", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
