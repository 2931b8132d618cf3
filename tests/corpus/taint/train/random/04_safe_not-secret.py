# expect: safe random
import random


def tidy(text):
    cleaned = text.strip()
    return cleaned


def main():
    value = tidy(input("value: "))
    COLORS = ["red", "green"]
    color = random.choice(COLORS)
    print(value, color)
