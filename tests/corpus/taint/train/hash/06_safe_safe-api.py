# expect: safe hash
import hashlib


def tidy(text):
    cleaned = text.strip()
    return cleaned


def main():
    value = tidy(input("value: "))
    digest = hashlib.sha256(value.encode()).hexdigest()
