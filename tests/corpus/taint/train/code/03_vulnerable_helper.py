# expect: vulnerable code


def tidy(text):
    cleaned = text.strip()
    return cleaned


def main():
    value = tidy(input("value: "))
    exec("total = " + value)
