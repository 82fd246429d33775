"""The nginx.conf an ingress-nginx controller renders from its Routes (a trimmed copy of
the real template's shape: the http block's upstream_balancer, then one
`## start server NAME` block per host with a location per Ingress path). Backends are not
listed in upstream blocks: since 0.2x ingress-nginx keeps endpoints in Lua
(`balancer_by_lua_block`) and changes them without a reload, as the template's own comment
says. `/dbg backends` shows them."""
from __future__ import annotations

from netlab.apps.ingress.routing import DEFAULT_SERVER, Location, Routes, Server

HEAD = """
# Configuration checksum: {checksum}

# setup custom paths that do not require root access
pid /tmp/nginx/nginx.pid;

daemon off;

worker_processes 2;

worker_rlimit_nofile 1047552;

worker_shutdown_timeout 240s ;

events {{
	multi_accept        on;
	worker_connections  16384;
	use                 epoll;
}}

http {{
	lua_package_path "/etc/nginx/lua/?.lua;;";

	lua_shared_dict balancer_ewma 10M;
	lua_shared_dict certificate_data 20M;
	lua_shared_dict configuration_data 20M;

	init_by_lua_block {{
		collectgarbage("collect")
		-- init modules
		local ok, res
		ok, res = pcall(require, "lua_ingress")
		lua_ingress = res
		lua_ingress.set_config({{"use_forwarded_headers":false,"use_proxy_protocol":false,"is_ssl_passthrough_enabled":false,"http_redirect_code":308,"listen_ports":{{"ssl_proxy":"442","https":"443"}},"hsts":true,"hsts_max_age":"31536000","hsts_include_subdomains":true,"hsts_preload":false}})
		ok, res = pcall(require, "configuration")
		configuration = res
		ok, res = pcall(require, "balancer")
		balancer = res
		ok, res = pcall(require, "monitor")
		monitor = res
		ok, res = pcall(require, "certificate")
		certificate = res
		ok, res = pcall(require, "plugins")
		plugins = res
	}}

	real_ip_header      X-Forwarded-For;
	real_ip_recursive   on;
	set_real_ip_from    0.0.0.0/0;

	server_tokens off;

	log_format upstreaminfo '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_length $request_time [$proxy_upstream_name] [$proxy_alternative_upstream_name] $upstream_addr $upstream_response_length $upstream_response_time $upstream_status $req_id';

	access_log /var/log/nginx/access.log upstreaminfo  if=$loggable;

	error_log  /var/log/nginx/error.log notice;

	# See https://www.nginx.com/blog/websocket-nginx
	map $http_upgrade $connection_upgrade {{
		default          upgrade;

		# See http://nginx.org/en/docs/http/ngx_http_upstream_module.html#keepalive
		''               '';

	}}

	# Reverse proxies can detect if a client provides a X-Request-ID header, and pass it on to the backend server.
	# If no such header is provided, it can provide a random value.
	map $http_x_request_id $req_id {{
		default   $http_x_request_id;

		""        $request_id;

	}}

	# Create a variable that contains the literal $ character.
	# This works because the geo module will not resolve variables.
	geo $literal_dollar {{
		default "$";
	}}

	server_name_in_redirect off;
	port_in_redirect        off;

	ssl_protocols TLSv1.2 TLSv1.3;

	ssl_early_data off;

	# turn on session caching to drastically improve performance

	ssl_session_cache shared:SSL:10m;
	ssl_session_timeout 10m;

	# allow configuring ssl session tickets
	ssl_session_tickets off;

	# slightly reduce the time-to-first-byte
	ssl_buffer_size 4k;

	# allow configuring custom ssl ciphers
	ssl_ciphers 'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384';
	ssl_prefer_server_ciphers on;

	ssl_ecdh_curve auto;

	# PEM sha: {fake_sha}
	ssl_certificate     /etc/ingress-controller/ssl/default-fake-certificate.pem;
	ssl_certificate_key /etc/ingress-controller/ssl/default-fake-certificate.pem;

	proxy_ssl_session_reuse on;

	upstream upstream_balancer {{
		### Attention!!!
		#
		# We no longer create "upstream" section for every backend.
		# Backends are handled dynamically using Lua. If you would like to debug
		# and see what backends ingress-nginx has in its memory you can
		# install our kubectl plugin https://kubernetes.github.io/ingress-nginx/kubectl-plugin.
		# Once you have the plugin you can use "kubectl ingress-nginx backends" command to
		# inspect current backends.
		#
		###

		server 0.0.0.1; # placeholder

		balancer_by_lua_block {{
			balancer.balance()
		}}

		keepalive 320;
		keepalive_time 1h;
		keepalive_timeout  60s;
		keepalive_requests 10000;

	}}

	# Cache for internal auth checks
	proxy_cache_path /tmp/nginx/nginx-cache-auth levels=1:2 keys_zone=auth_cache:10m max_size=128m inactive=30m use_temp_path=off;

	# Global filters

	## start server _
	server {{
		server_name _ ;

		http2 on;

		listen 80 default_server reuseport backlog=4096 ;
		listen 443 default_server reuseport backlog=4096 ssl;

		set $proxy_upstream_name "-";

		ssl_reject_handshake off;

		ssl_certificate_by_lua_block {{
			certificate.call()
		}}
{default_locations}
		# health checks in cloud providers require the use of port 80
		location /healthz {{

			access_log off;
			return 200;
		}}

		# this is required to avoid error if nginx is being monitored
		# with an external software (like sysdig)
		location /nginx_status {{

			allow 127.0.0.1;

			deny all;

			access_log off;
			stub_status on;
		}}

	}}
	## end server _
"""

TAIL = """
	# backend for when default-backend-service is not configured or it does not have endpoints
	server {
		listen 8181 default_server reuseport backlog=4096;

		set $proxy_upstream_name "internal";

		access_log off;

		location / {
			return 404;
		}
	}

	# default server, used for NGINX healthcheck and access to nginx stats
	server {
		# Ensure that modsecurity will not run on an internal location as this is not accessible from outside

		listen 127.0.0.1:10246;
		set $proxy_upstream_name "internal";

		keepalive_timeout 0;
		gzip off;

		access_log off;

		location /healthz {
			return 200;
		}

		location /is-dynamic-lb-initialized {
			content_by_lua_block {
				local configuration = require("configuration")
				local backend_data = configuration.get_backends_data()
				if not backend_data then
				ngx.exit(ngx.HTTP_INTERNAL_SERVER_ERROR)
				return
				end

				ngx.say("OK")
				ngx.exit(ngx.HTTP_OK)
			}
		}

		location /nginx_status {
			stub_status on;
		}

		location /configuration {
			client_max_body_size                    21M;
			client_body_buffer_size                 21M;
			proxy_buffering                         off;

			content_by_lua_block {
				configuration.call()
			}
		}

		location / {
			content_by_lua_block {
				ngx.exit(ngx.HTTP_NOT_FOUND)
			}
		}
	}
}

stream {
	lua_package_path "/etc/nginx/lua/?.lua;/etc/nginx/lua/vendor/?.lua;;";

	lua_shared_dict tcp_udp_configuration_data 5M;

	error_log  /var/log/nginx/error.log notice;

	# TCP services

	# UDP services

	# Stream Snippets

}
"""


def render(routes: Routes, cert_path) -> str:
    """nginx.conf for these routes; `cert_path(secret_key)` names a Secret's PEM file."""
    hosts = [s for name, s in routes.servers.items() if name != DEFAULT_SERVER]
    body = "".join(_server(s, cert_path) for s in hosts)
    default_locs = "".join(_location(loc, routes.servers[DEFAULT_SERVER]) for loc in routes.servers[DEFAULT_SERVER].ordered())
    text_wo_sum = body + default_locs
    checksum = _checksum(text_wo_sum)
    head = HEAD.format(checksum=checksum, fake_sha="f0a3b4c6d1e2b7a8c9d0e1f2a3b4c5d6e7f8a9b0", default_locations=default_locs)
    return head + body + TAIL


def _checksum(text: str) -> str:
    import hashlib

    return str(int(hashlib.sha256(text.encode()).hexdigest()[:15], 16))


def _server(server: Server, cert_path) -> str:
    lines = [f"\n\t## start server {server.hostname}", "\tserver {", f"\t\tserver_name {server.server_name} ;", "",
             "\t\thttp2 on;", "", "\t\tlisten 80;", "\t\tlisten 443 ssl;", "",
             '\t\tset $proxy_upstream_name "-";', ""]
    if server.tls_secret:
        pem = cert_path(server.tls_secret)
        lines += [f"\t\t# PEM sha: {_checksum(server.tls_secret)}", f"\t\tssl_certificate     {pem};",
                  f"\t\tssl_certificate_key {pem};", ""]
    lines += ["\t\tssl_certificate_by_lua_block {", "\t\t\tcertificate.call()", "\t\t}"]
    text = "\n".join(lines) + "\n"
    text += "".join(_location(loc, server) for loc in server.ordered())
    return text + "\n\t}\n\t## end server " + server.hostname + "\n"


def _location(loc: Location, server: Server) -> str:
    b = loc.backend
    if loc.modifier == "~*":
        head = f'location ~* "{loc.path}"'
    elif loc.modifier == "=":
        head = f"location = {loc.path}"
    else:
        head = f"location {loc.path}"
    ssl_redirect = "true" if (server.tls_secret and server.ssl_redirect) else "false"
    upstream = b.upstream if b is not None and b.service else "upstream-default-backend"
    return f"""
		{head} {{

			set $namespace      "{loc.namespace}";
			set $ingress_name   "{loc.ingress_name}";
			set $service_name   "{b.service if b is not None else ''}";
			set $service_port   "{b.port if b is not None else ''}";
			set $location_path  "{loc.rule_path}";
			set $global_rate_limit_exceeding n;

			rewrite_by_lua_block {{
				lua_ingress.rewrite({{
					force_ssl_redirect = false,
					ssl_redirect = {ssl_redirect},
					force_no_ssl_redirect = false,
					preserve_trailing_slash = false,
					use_port_in_redirects = false,
				}})
				balancer.rewrite()
				plugins.run()
			}}

			header_filter_by_lua_block {{
				lua_ingress.header()
				plugins.run()
			}}

			body_filter_by_lua_block {{
				plugins.run()
			}}

			log_by_lua_block {{
				balancer.log()
				monitor.call()
				plugins.run()
			}}

			port_in_redirect off;

			set $balancer_ewma_score -1;
			set $proxy_upstream_name "{upstream}";
			set $proxy_host          $proxy_upstream_name;
			set $pass_access_scheme  $scheme;

			set $pass_server_port    $server_port;

			set $best_http_host      $http_host;
			set $pass_port           $pass_server_port;

			set $proxy_alternative_upstream_name "";

			client_max_body_size                    1m;

			proxy_set_header Host                   $best_http_host;

			proxy_set_header X-Request-ID           $req_id;
			proxy_set_header X-Real-IP              $remote_addr;
			proxy_set_header X-Forwarded-For        $remote_addr;
			proxy_set_header X-Forwarded-Host       $best_http_host;
			proxy_set_header X-Forwarded-Port       $pass_port;
			proxy_set_header X-Forwarded-Proto      $pass_access_scheme;
			proxy_set_header X-Forwarded-Scheme     $pass_access_scheme;
			proxy_set_header X-Scheme               $pass_access_scheme;

			# Pass the original X-Forwarded-For
			proxy_set_header X-Original-Forwarded-For $http_x_forwarded_for;

			proxy_connect_timeout                   5s;
			proxy_send_timeout                      60s;
			proxy_read_timeout                      60s;

			proxy_next_upstream                     error timeout;
			proxy_next_upstream_timeout             0;
			proxy_next_upstream_tries               3;

			proxy_pass http://upstream_balancer;

			proxy_redirect                          off;

		}}
"""
