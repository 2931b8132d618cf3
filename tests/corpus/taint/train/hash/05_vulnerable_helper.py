# expect: vulnerable hash
import hashlib


def tidy(text):
    cleaned = text.strip()
    return cleaned


def main():
    value = tidy(input("value: "))
    digest = hashlib.md5(value.encode()).hexdigest()
