"""Which part of Kobling a request is for, where that changes how it is answered."""

API_PREFIX = "/api/"


def is_api_request(request) -> bool:
    return request.path_info.startswith(API_PREFIX)
