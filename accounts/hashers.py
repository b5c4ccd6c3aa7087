"""How passwords are hashed (settings.PASSWORD_HASHERS)."""

from django.contrib.auth.hashers import Argon2PasswordHasher


class OneLaneArgon2PasswordHasher(Argon2PasswordHasher):
    """Django's Argon2 (100 MiB, two passes) in one lane instead of eight: the same work,
    memory and strength, on one core. Eight lanes run as eight threads, which on a two-core
    server took both cores from everyone else for each login; OWASP's recommended Argon2id
    settings use one. The algorithm's name is unchanged, so a hash made with eight lanes still
    verifies, and is made again with one at the next login."""

    parallelism = 1
