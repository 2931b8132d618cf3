# expect: safe random
import random


class Sampler:
    def pick_for_review(self, items):
        rng = random.Random(42)
        return rng.sample(items, 3)
