# expect: safe command
import subprocess


def tidy(text):
    cleaned = text.strip()
    return cleaned


def main():
    value = tidy(input("value: "))
    value = "report.txt"
    subprocess.call(f"grep {value} app.log", shell=True)
