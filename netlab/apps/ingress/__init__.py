"""Ingress: the networking.k8s.io/v1 routing rules (routing.py), the nginx.conf an
ingress-nginx controller renders from them (nginxconf.py), the controller's proxy
(controller.py), an echoserver backend (echo.py) and `netlab http serve` (serve.py)."""
