# expect: safe random
import secrets


def reset_code() -> str:
    return "".join(str(secrets.randbelow(10)) for _ in range(6))


def send_reset(mailer, user):
    mailer.send(user.email, f"Your password reset code is {reset_code()}")
