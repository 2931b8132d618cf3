# expect: vulnerable random
import random
import string


class Invites:
    def new_invite_code(self):
        alphabet = string.ascii_uppercase + string.digits
        return "".join(random.sample(alphabet, 10))
