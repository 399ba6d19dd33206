"""The web console at `/console/`: server-rendered pages over the same domain services as the
API (`routes.py`), signed in with an access key (`session_cookie.py`, `sign_in_limit.py`)."""
