# expect: vulnerable deserialization
import yaml


def tidy(text):
    cleaned = text.strip()
    return cleaned


def main():
    value = tidy(input("value: "))
    config = yaml.unsafe_load(value)
