# expect: safe code


def tidy(text):
    cleaned = text.strip()
    return cleaned


def main():
    value = tidy(input("value: "))
    value = "report.txt"
    exec("total = " + value)
