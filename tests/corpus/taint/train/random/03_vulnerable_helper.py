# expect: vulnerable random
import random


def tidy(text):
    cleaned = text.strip()
    return cleaned


def main():
    value = tidy(input("value: "))
    reset_code = random.randint(100000, 999999)
    print(value, reset_code)
