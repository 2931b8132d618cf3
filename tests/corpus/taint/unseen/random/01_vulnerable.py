# expect: vulnerable random
from random import randint


def reset_code() -> str:
    return "".join(str(randint(0, 9)) for _ in range(6))


def send_reset(mailer, user):
    mailer.send(user.email, f"Your password reset code is {reset_code()}")
