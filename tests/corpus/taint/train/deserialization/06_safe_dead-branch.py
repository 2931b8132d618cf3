# expect: safe deserialization
import yaml


def tidy(text):
    cleaned = text.strip()
    return cleaned


def main():
    value = tidy(input("value: "))
    limit = 10
    if limit > 99:
        config = yaml.unsafe_load(value)
    return None
