"""HTTP plumbing shared by the executor and the proxy, both gevent servers under gunicorn.

* :mod:`opr_http.worker`: the gunicorn worker (gevent pywsgi with a lean header parser and
  one-write responses);
* :mod:`opr_http.upstream`: keep-alive connections to one upstream (an executor for the proxy,
  a runtime for the executor) and a response parsed by geventhttpclient's C parser.
"""
