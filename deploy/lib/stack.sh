# deploy/lib/stack.sh: the one library that installs the packages, builds the programs and starts,
# checks and stops a private AgentPlatform stack (MariaDB, Redis, API workers, scheduler, nginx)
# whose whole state lives in one directory. deploy/local-stack, tests/run and bench/run source it;
# no other file starts or stops these servers.
#
#   source deploy/lib/stack.sh
#   stack_ensure_packages [EXTRA_PACKAGE...]
#   stack_build BUILD_DIR [CONFIGURE_ARG...]      VPATH build of the three programs, and the docs
#                                                 page's npm package (stack_npm_ci nginx/docs)
#   stack_npm_ci DIR                              npm ci in DIR when its lockfile changed
#   stack_build_tests BUILD_DIR                   also builds tests/unit/unit and tests/e2e/e2e
#   stack_free_port [EXCLUDED_PORT...]            prints a free loopback TCP port
#   stack_start DIR --port N [options]            starts (or completes) the stack; waits for /readyz
#   stack_stop DIR                                stops what DIR's pid files name
#   stack_status DIR                              one line per part; 0 when all run
#   stack_redis_stop DIR / stack_redis_start DIR  a Redis outage and its end, for the e2e tests
#   stack_admin DIR ARG...                        runs agentplatform-admin against the stack
#   stack_get DIR NAME                            a fact about the stack (see stack_get)
#   stack_write_env DIR FILE API_KEY              the four AGENTPLATFORM_* lines, mode 0600
#   stack_spawn_fcgi / stack_stop_fcgi            spawn-fcgi + multiwatch, for any responder
#
# Executed rather than sourced, it runs one of these: `stack.sh start|stop|status|redis-stop|
# redis-start|admin DIR ...`; each stack also gets DIR/bin/stack-ctl, which does the same for it.
# `stack.sh npm-ci DIR` runs stack_npm_ci (`make install` uses it for the docs page's package).
#
# A stack directory holds: etc/ (stack.state with the ports and the secrets made once,
# agentplatform.conf, nginx.conf; mode 0700), run/ (sockets, pid files), log/ (every log), mysql/
# (data), redis/, tmp/ (nginx temp paths), bin/stack-ctl, docs/ (what nginx serves at
# /api/v1/docs: links to the repository's nginx/docs/index.html, docs.js and the swagger-ui-dist
# package that npm ci installed there; the layout `make install` gives production). Every server
# runs in its own session, so Ctrl-C in the caller's terminal does not reach it. Functions return
# non-zero after printing why; they never exit the caller's shell, and work the same whether or
# not it uses set -e.
# shellcheck shell=bash disable=SC2034

STACK_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# Debian packages the build, the stack and the tests need (bench/run adds wrk).
STACK_PACKAGES=(
	libfcgi-dev spawn-fcgi multiwatch libjansson-dev libmariadb-dev mariadb-server mariadb-client
	libssl-dev libcurl4-openssl-dev libhiredis-dev libcunit1-dev redis-server nginx autoconf
	automake pkgconf gcc make tzdata curl openssl iproute2 procps
)

# Bounded waits, in seconds.
STACK_READY_TIMEOUT=${STACK_READY_TIMEOUT:-90}
STACK_DB_TIMEOUT=${STACK_DB_TIMEOUT:-60}

_stack_say() { printf 'stack: %s\n' "$*" >&2; }
_stack_err() { printf 'stack: error: %s\n' "$*" >&2; }

# ---------------------------------------------------------------------------------------------
# Packages and build

# Installs whichever of STACK_PACKAGES (plus the arguments) is missing; quick when none is.
stack_ensure_packages() {
	local p missing=()
	for p in "${STACK_PACKAGES[@]}" "$@"; do
		if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]; then
			missing+=("$p")
		fi
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		_stack_err "missing Debian packages (install them as root): ${missing[*]}"
		return 1
	fi
	_stack_say "installing ${missing[*]}"
	# Installing mariadb-server, redis-server or nginx may try to start the system's services;
	# nothing here uses them, starts them or stops them.
	apt-get update -qq || { _stack_err "apt-get update failed"; return 1; }
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" ||
		{ _stack_err "apt-get install failed: ${missing[*]}"; return 1; }
}

# Configures (when needed) and builds the programs in BUILD_DIR (relative to the repository or
# absolute) from the repository's sources: a VPATH build, so several build dirs coexist.
stack_build() {
	local b=${1:?stack_build BUILD_DIR [CONFIGURE_ARG...]}
	shift
	local top=$STACK_REPO
	case $b in /*) ;; *) b=$top/$b ;; esac
	if [ -f "$top/config.status" ]; then
		# configure refuses a VPATH build of a source tree that was configured in place.
		_stack_say "the source tree was configured in place ($top/config.status): running 'make distclean' there first"
		(cd "$top" && make -s distclean) || { _stack_err "make distclean failed in $top"; return 1; }
	fi
	if [ ! -x "$top/configure" ] || [ ! -f "$top/Makefile.in" ] ||
		[ "$top/configure" -ot "$top/configure.ac" ] || [ "$top/configure" -ot "$top/Makefile.am" ]; then
		_stack_say "autoreconf -fi"
		(cd "$top" && autoreconf -fi) || { _stack_err "autoreconf failed"; return 1; }
	fi
	mkdir -p "$b" || return 1
	local want have=""
	want=$(printf '%q ' "$@")
	[ -f "$b/.stack-configure-args" ] && have=$(cat "$b/.stack-configure-args")
	if [ ! -f "$b/config.status" ] || [ ! -f "$b/Makefile" ] || [ "$want" != "$have" ]; then
		_stack_say "configure $* (in ${b#"$top"/})"
		(cd "$b" && "$top/configure" -q "$@") || { _stack_err "configure failed (see $b/config.log)"; return 1; }
		printf '%s' "$want" >"$b/.stack-configure-args"
	fi
	_stack_say "make (in ${b#"$top"/})"
	(cd "$b" && make -j"$(nproc 2>/dev/null || echo 2)") || { _stack_err "make failed in $b"; return 1; }
	# The docs page's Swagger UI files (served by nginx from the source tree, see _stack_docs_links).
	stack_npm_ci "$top/nginx/docs"
}

# stack_npm_ci DIR: installs DIR's npm packages exactly as its committed package-lock.json says
# (npm ci) when DIR/node_modules is missing or was installed from another lockfile; quick
# otherwise. Install scripts never run (--ignore-scripts: none of our packages needs one, and
# some would phone home); only the npm registry is needed. Runs under a lock on the lockfile, so
# concurrent callers (tests/run beside deploy/local-stack) wait for one install instead of
# clobbering each other's node_modules.
stack_npm_ci() {
	local d=${1:?stack_npm_ci DIR}
	case $d in /*) ;; *) d=$STACK_REPO/$d ;; esac
	[ -f "$d/package-lock.json" ] || { _stack_err "$d/package-lock.json is missing"; return 1; }
	if ! command -v npm >/dev/null 2>&1; then
		# Machines of this project's kind come with Node.js 20 and npm; elsewhere Debian's will do
		# for the docs page (the test tools in tests/openapi need Node.js >= 20.19).
		stack_ensure_packages nodejs npm || return 1
	fi
	local stamp=$d/node_modules/.stack-lock.sha256
	(
		flock -w 600 9 || { _stack_err "timed out waiting for another npm ci in $d"; exit 1; }
		want=$(sha256sum <"$d/package-lock.json" | cut -c1-64)$(sha256sum <"$d/package.json" | cut -c1-64)
		[ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && exit 0
		_stack_say "npm ci (in ${d#"$STACK_REPO"/})"
		start=$SECONDS
		(cd "$d" && npm ci --ignore-scripts --no-audit --no-fund --no-update-notifier --loglevel=warn) ||
			{ _stack_err "npm ci failed in $d"; exit 1; }
		printf '%s\n' "$want" >"$stamp"
		_stack_say "npm ci (in ${d#"$STACK_REPO"/}): $((SECONDS - start))s, $(du -sh "$d/node_modules" | cut -f1)"
	) 9<"$d/package-lock.json"
}

# Builds the test programs of an already configured BUILD_DIR without running them.
stack_build_tests() {
	local b=${1:?stack_build_tests BUILD_DIR}
	case $b in /*) ;; *) b=$STACK_REPO/$b ;; esac
	(cd "$b" && make -j"$(nproc 2>/dev/null || echo 2)" check TESTS=) ||
		{ _stack_err "building the tests failed in $b"; return 1; }
}

# ---------------------------------------------------------------------------------------------
# Small helpers

# Prints a TCP port nothing listens on, chosen at random in 20000-31999 (below Linux's ephemeral
# range, so outgoing connections do not take it meanwhile); never one of the arguments.
stack_free_port() {
	local p i x taken
	for ((i = 0; i < 200; i++)); do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 12000))
		taken=0
		for x in "$@"; do [ "$x" = "$p" ] && taken=1; done
		[ $taken -eq 1 ] && continue
		_stack_port_in_use "$p" || { echo "$p"; return 0; }
	done
	_stack_err "no free port found"
	return 1
}

_stack_port_in_use() { [ -n "$(ss -ltnH "( sport = :$1 )" 2>/dev/null)" ]; }

_stack_abs() { realpath -m -- "$1"; }

# True when PID is a live process (a zombie is not one).
_stack_alive() {
	local st
	[ -r "/proc/$1/stat" ] || return 1
	st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# Prints the pid in PIDFILE when that process is alive and its command line contains MATCH
# (so a recycled pid is never taken for ours).
_stack_pid_of() {
	local f=$1 match=$2 pid=""
	[ -s "$f" ] || return 1
	read -r pid <"$f" || [ -n "$pid" ] || return 1
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	_stack_alive "$pid" || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$match" || return 1
	echo "$pid"
}

# Waits up to SECONDS (decimals allowed) for every PID to exit; 0 when they all did.
_stack_wait_gone() {
	local secs=$1 pid left
	shift
	local tries=$(( ${secs%.*} * 10 + 1 ))
	while ((tries-- > 0)); do
		left=0
		for pid in "$@"; do _stack_alive "$pid" && left=1; done
		[ $left -eq 0 ] && return 0
		sleep 0.1
	done
	return 1
}

# Stops the process PIDFILE names (if it is alive and matches): SIGTERM, SECONDS to exit, then
# SIGKILL. Removes the pid file.
_stack_stop_pidfile() {
	local f=$1 match=$2 name=$3 secs=$4 pid
	if pid=$(_stack_pid_of "$f" "$match"); then
		kill -TERM "$pid" 2>/dev/null || true
		if ! _stack_wait_gone "$secs" "$pid"; then
			_stack_say "$name (pid $pid) did not stop within ${secs}s: SIGKILL"
			kill -KILL "$pid" 2>/dev/null || true
			_stack_wait_gone 5 "$pid" || true
		fi
	fi
	rm -f "$f"
}

_stack_children() { ps -o pid= --ppid "$1" 2>/dev/null | tr -d ' ' || true; }

# Prints the last lines of the stack's logs that tell why it is not ready, most telling first.
_stack_tail_logs() {
	local dir=$1 f
	for f in api.stderr api.log scheduler.stderr scheduler.log nginx-error.log migrate.log admin.log \
		mariadb.log mariadb-setup.log redis.log; do
		[ -s "$dir/log/$f" ] || continue
		printf -- '----- %s (last 12 lines)\n' "$dir/log/$f" >&2
		tail -n 12 "$dir/log/$f" >&2
	done
}

# Every function that reads a stack's state starts with: eval "$_STACK_LOCALS"; so the ST_*
# variables _stack_load_state assigns are that function's locals.
_STACK_LOCALS='local ST_REPO="" ST_BUILD="" ST_HTTP_PORT="" ST_REDIS_PORT="" ST_WORKERS=2
	local ST_NGINX_WORKERS=1 ST_NGINX_INCLUDE="" ST_CONFIG_EXTRA="" ST_LOG_LEVEL=info
	local ST_DB_PASSWORD="" ST_MASTER_KEY=""; local -a ST_ENV=() ST_MARIADB_OPTS=()'

_stack_save_state() {
	local v f=$1/etc/stack.state
	(
		umask 077
		{
			echo "# Generated by deploy/lib/stack.sh: what the next start, stop and status reuse."
			for v in ST_REPO ST_BUILD ST_HTTP_PORT ST_REDIS_PORT ST_WORKERS ST_NGINX_WORKERS \
				ST_NGINX_INCLUDE ST_CONFIG_EXTRA ST_LOG_LEVEL ST_DB_PASSWORD ST_MASTER_KEY; do
				printf '%s=%q\n' "$v" "${!v}"
			done
			printf 'ST_ENV=('
			for v in "${ST_ENV[@]}"; do printf ' %q' "$v"; done
			printf ' )\nST_MARIADB_OPTS=('
			for v in "${ST_MARIADB_OPTS[@]}"; do printf ' %q' "$v"; done
			printf ' )\n'
		} >"$f.new"
	) && mv -f "$f.new" "$f"
}

# Loads DIR's saved state into the ST_* variables of the calling function (see _STACK_LOCALS).
_stack_load_state() {
	local f=$1/etc/stack.state
	[ -f "$f" ] || { _stack_err "$1 is not a stack directory (no etc/stack.state)"; return 1; }
	# shellcheck disable=SC1090
	source "$f"
}

# The environment a stack program runs in: no AGENTPLATFORM_* from the caller's shell (so the
# caller's settings never leak into a private stack), the stack's config, the stack's extra
# variables (e.g. sanitizer options) and the arguments. Fills the array _stack_envcmd.
_stack_env_cmd() {
	local dir=$1 v
	shift
	_stack_envcmd=(env)
	for v in $(compgen -e); do
		case $v in AGENTPLATFORM_*) _stack_envcmd+=(-u "$v") ;; esac
	done
	_stack_envcmd+=("AGENTPLATFORM_CONFIG=$dir/etc/agentplatform.conf" "${ST_ENV[@]}" "$@")
}

# ---------------------------------------------------------------------------------------------
# FastCGI responders

# stack_spawn_fcgi SOCKET PIDFILE WORKERS LOGFILE PROGRAM [VAR=VALUE...]
# Starts PROGRAM as WORKERS processes under multiwatch (which restarts a crashed one) on a unix
# socket only root can reach; the workers' stderr goes to LOGFILE. The environment is the
# caller's plus the VAR=VALUE arguments.
stack_spawn_fcgi() {
	local sock=$1 pidfile=$2 n=$3 log=$4 prog=$5
	shift 5
	if _stack_pid_of "$pidfile" multiwatch >/dev/null; then
		_stack_err "a responder already runs for $pidfile"
		return 1
	fi
	rm -f "$pidfile"
	# spawn-fcgi points the child's stdout/stderr at /dev/null: a shell in between sends them to
	# LOGFILE, then becomes multiwatch (same pid, so the pid file stays right).
	env "$@" spawn-fcgi -s "$sock" -M 0600 -P "$pidfile" -- \
		/bin/sh -c 'exec >>"$0" 2>&1; exec /usr/bin/multiwatch -f "$1" -- "$2"' "$log" "$n" "$prog" \
		>>"$log" 2>&1 </dev/null ||
		{ _stack_err "spawn-fcgi failed for $prog (see $log)"; tail -n 5 "$log" >&2; return 1; }
}

# stack_stop_fcgi PIDFILE [SOCKET]
# multiwatch turns its first SIGTERM into SIGUSR1 for the workers (libfcgi's graceful stop) and
# forwards a second SIGTERM as SIGTERM; after that, SIGKILL for all.
stack_stop_fcgi() {
	local pidfile=$1 sock=${2:-} pid kids
	if pid=$(_stack_pid_of "$pidfile" multiwatch); then
		kids=$(_stack_children "$pid") || true
		kill -TERM "$pid" 2>/dev/null || true
		if ! _stack_wait_gone 10 "$pid"; then
			kill -TERM "$pid" 2>/dev/null || true
			if ! _stack_wait_gone 5 "$pid"; then
				_stack_say "multiwatch (pid $pid) did not stop: SIGKILL to it and its workers"
				kids="$kids $(_stack_children "$pid")"
				# shellcheck disable=SC2086
				kill -KILL "$pid" $kids 2>/dev/null || true
			fi
		fi
		# shellcheck disable=SC2086
		if ! _stack_wait_gone 5 "$pid" $kids; then
			# shellcheck disable=SC2086
			kill -KILL $kids 2>/dev/null || true
			# shellcheck disable=SC2086
			_stack_wait_gone 5 $kids || true
		fi
	fi
	rm -f "$pidfile"
	[ -n "$sock" ] && rm -f "$sock"
	return 0
}

# ---------------------------------------------------------------------------------------------
# The parts

_stack_mariadb_start() {
	local dir=$1 sock=$1/run/mysqld.sock pid
	if _stack_pid_of "$dir/run/mysqld.pid" mariadbd >/dev/null; then
		return 0
	fi
	if [ ! -f "$dir/mysql/.stack-installed" ]; then
		rm -rf "${dir:?}/mysql" && mkdir -p "$dir/mysql"
		_stack_say "mariadb-install-db ($dir/mysql)"
		mariadb-install-db --no-defaults --user="$(id -un)" --datadir="$dir/mysql" \
			--auth-root-authentication-method=normal --skip-test-db \
			>>"$dir/log/mariadb-install.log" 2>&1 ||
			{ _stack_err "mariadb-install-db failed"; tail -n 20 "$dir/log/mariadb-install.log" >&2; return 1; }
		touch "$dir/mysql/.stack-installed"
	fi
	rm -f "$sock"
	# --no-defaults: the system's my.cnf (and its socket, port and datadir) is never read.
	setsid mariadbd --no-defaults --user="$(id -un)" --datadir="$dir/mysql" --socket="$sock" \
		--skip-networking --pid-file="$dir/run/mysqld.pid" --log-error="$dir/log/mariadb.log" \
		--tmpdir="$dir/tmp" --innodb-buffer-pool-size=128M --query-cache-type=1 --query-cache-size=32M \
		--character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci \
		"${ST_MARIADB_OPTS[@]}" </dev/null >>"$dir/log/mariadb.log" 2>&1 &
	pid=$!
	local tries=$((STACK_DB_TIMEOUT * 5))
	while ((tries-- > 0)); do
		if mariadb-admin --no-defaults -uroot -S "$sock" --connect-timeout=2 ping >/dev/null 2>&1; then
			return 0
		fi
		if ! _stack_alive "$pid"; then
			_stack_err "mariadbd exited while starting"
			tail -n 20 "$dir/log/mariadb.log" >&2
			return 1
		fi
		sleep 0.2
	done
	_stack_err "mariadbd did not answer within ${STACK_DB_TIMEOUT}s"
	tail -n 20 "$dir/log/mariadb.log" >&2
	return 1
}

# Creates the database and the application user (idempotent; sets the password every time).
# The one database user of a private stack also runs agentplatform-admin, whose `reporting-user create`
# needs CREATE USER and GRANT OPTION on the database (production keeps those to a separate admin user:
# README, Operations).
_stack_mariadb_setup() {
	local dir=$1 sql
	sql="CREATE DATABASE IF NOT EXISTS agentplatform CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;
CREATE USER IF NOT EXISTS 'agentplatform'@'localhost' IDENTIFIED BY '$ST_DB_PASSWORD';
ALTER USER 'agentplatform'@'localhost' IDENTIFIED BY '$ST_DB_PASSWORD';
GRANT ALL PRIVILEGES ON agentplatform.* TO 'agentplatform'@'localhost' WITH GRANT OPTION;
GRANT CREATE USER ON *.* TO 'agentplatform'@'localhost';"
	if ! printf '%s\n' "$sql" | mariadb --no-defaults -uroot -S "$dir/run/mysqld.sock" --batch \
		>>"$dir/log/mariadb-setup.log" 2>&1; then
		_stack_err "creating the database failed"
		tail -n 10 "$dir/log/mariadb-setup.log" >&2
		return 1
	fi
}

_stack_redis_running() { _stack_pid_of "$1/run/redis.pid" redis-server >/dev/null; }

_stack_redis_start() {
	local dir=$1
	_stack_redis_running "$dir" && return 0
	rm -f "$dir/run/redis.pid"
	# No config file: the system's redis.conf is never read. No persistence: Redis holds nothing
	# that MariaDB does not, or whose loss costs more than a read (API key generations: keygen.h).
	redis-server --port "$ST_REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
		--daemonize yes --pidfile "$dir/run/redis.pid" --logfile "$dir/log/redis.log" \
		--dir "$dir/redis" </dev/null >>"$dir/log/redis.log" 2>&1 ||
		{ _stack_err "redis-server failed to start"; tail -n 10 "$dir/log/redis.log" >&2; return 1; }
	local tries=50
	while ((tries-- > 0)); do
		[ "$(redis-cli -h 127.0.0.1 -p "$ST_REDIS_PORT" ping 2>/dev/null)" = PONG ] && return 0
		sleep 0.2
	done
	_stack_err "redis did not answer on port $ST_REDIS_PORT within 10s"
	tail -n 10 "$dir/log/redis.log" >&2
	return 1
}

_stack_redis_stop() {
	_stack_stop_pidfile "$1/run/redis.pid" redis-server redis 15
}

# What identifies a running program's code, config and environment: when it changes, a second
# start restarts that program.
_stack_stamp() {
	local dir=$1 bin=$2
	printf '%s|%s|%s|%s\n' "$(stat -L -c '%i %Y %s' "$bin" 2>/dev/null)" \
		"$(md5sum <"$dir/etc/agentplatform.conf" | cut -c1-32)" "${ST_ENV[*]}" "$ST_WORKERS"
}

_stack_api_start() {
	local dir=$1 bin=$ST_BUILD/agentplatform-api stamp
	stamp=$(_stack_stamp "$dir" "$bin")
	if _stack_pid_of "$dir/run/api.pid" multiwatch >/dev/null; then
		[ "$(cat "$dir/run/api.stamp" 2>/dev/null)" = "$stamp" ] && return 0
		_stack_say "restarting the API workers (program, config or environment changed)"
		stack_stop_fcgi "$dir/run/api.pid" "$dir/run/api.sock"
	fi
	_stack_env_cmd "$dir"
	stack_spawn_fcgi "$dir/run/api.sock" "$dir/run/api.pid" "$ST_WORKERS" "$dir/log/api.stderr" \
		"$bin" "${_stack_envcmd[@]:1}" || return 1
	printf '%s\n' "$stamp" >"$dir/run/api.stamp"
}

_stack_api_stop() { stack_stop_fcgi "$1/run/api.pid" "$1/run/api.sock"; rm -f "$1/run/api.stamp"; }

_stack_scheduler_start() {
	local dir=$1 bin=$ST_BUILD/agentplatform-scheduler stamp
	stamp=$(_stack_stamp "$dir" "$bin")
	if _stack_pid_of "$dir/run/scheduler.pid" agentplatform-scheduler >/dev/null; then
		[ "$(cat "$dir/run/scheduler.stamp" 2>/dev/null)" = "$stamp" ] && return 0
		_stack_say "restarting the scheduler (program, config or environment changed)"
		_stack_scheduler_stop "$dir"
	fi
	_stack_env_cmd "$dir" "AGENTPLATFORM_LOG_FILE=$dir/log/scheduler.log"
	# setsid runs in place here (a background child is never a process-group leader), so $! is
	# the scheduler's own pid.
	setsid "${_stack_envcmd[@]}" "$bin" --config "$dir/etc/agentplatform.conf" \
		</dev/null >>"$dir/log/scheduler.stderr" 2>&1 &
	echo $! >"$dir/run/scheduler.pid"
	printf '%s\n' "$stamp" >"$dir/run/scheduler.stamp"
}

# The scheduler lets running runs finish for shutdown_grace_seconds (30 by default) after SIGTERM; past
# that plus a margin, its whole process group (the parent and its run workers) is killed.
_stack_scheduler_stop() {
	local pid
	if pid=$(_stack_pid_of "$1/run/scheduler.pid" agentplatform-scheduler); then
		kill -TERM "$pid" 2>/dev/null || true
		if ! _stack_wait_gone 40 "$pid"; then
			_stack_say "scheduler (pid $pid) did not stop within 40s: SIGKILL to its process group"
			kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
			_stack_wait_gone 5 "$pid" || true
		fi
	fi
	rm -f "$1/run/scheduler.pid" "$1/run/scheduler.stamp"
}

# DIR/docs: the docs page's directory ($agentplatform_docs in the nginx config), as links into the
# source tree, so an edit of nginx/docs shows at the next page load.
_stack_docs_links() {
	local dir=$1 src=$STACK_REPO/nginx/docs
	mkdir -p "$dir/docs" || return 1
	ln -sfn "$src/index.html" "$dir/docs/index.html" &&
		ln -sfn "$src/docs.js" "$dir/docs/docs.js" &&
		ln -sfn "$src/node_modules/swagger-ui-dist" "$dir/docs/swagger-ui-dist" || return 1
	[ -f "$src/node_modules/swagger-ui-dist/swagger-ui-bundle.js" ] ||
		_stack_say "warning: $src/node_modules is not installed: /api/v1/docs will not load (stack_build or stack_npm_ci nginx/docs installs it)"
	return 0
}

_stack_nginx() { nginx -e "$1/log/nginx-error.log" -c "$1/etc/nginx.conf" -p "$1/" "${@:2}"; }

_stack_write_nginx_conf() {
	local dir=$1 out=$2 user_line="" extra=""
	[ "$(id -u)" -eq 0 ] && user_line="user root;  # workers must reach the 0600 FastCGI socket"
	[ -n "$ST_NGINX_INCLUDE" ] && extra="        include $ST_NGINX_INCLUDE;"
	# A digest of the included files: an edit of one changes this file, so the next start reloads.
	local includes
	includes=$(cat "$STACK_REPO/nginx/agentplatform-http.conf" "$STACK_REPO/nginx/agentplatform-locations.conf" \
		${ST_NGINX_INCLUDE:+"$ST_NGINX_INCLUDE"} 2>/dev/null | md5sum | cut -c1-32)
	cat >"$out" <<-EOF
		# Generated by deploy/lib/stack.sh for the private stack in $dir; rewritten on every start.
		# Included files' digest: $includes
		daemon on;
		$user_line
		worker_processes $ST_NGINX_WORKERS;
		pid $dir/run/nginx.pid;
		error_log $dir/log/nginx-error.log warn;

		events {
		    worker_connections 1024;
		}

		http {
		    include mime.types;
		    default_type application/octet-stream;
		    sendfile on;
		    keepalive_timeout 65;

		    client_body_temp_path $dir/tmp/nginx-client-body;
		    fastcgi_temp_path $dir/tmp/nginx-fastcgi;
		    proxy_temp_path $dir/tmp/nginx-proxy;
		    uwsgi_temp_path $dir/tmp/nginx-uwsgi;
		    scgi_temp_path $dir/tmp/nginx-scgi;

		    include $STACK_REPO/nginx/agentplatform-http.conf;
		    access_log $dir/log/nginx-access.log agentplatform buffer=64k flush=1s;
		    map "" \$agentplatform_docs { default $dir/docs; }

		    upstream agentplatform_api {
		        server unix:$dir/run/api.sock;
		    }

		    server {
		        listen 127.0.0.1:$ST_HTTP_PORT;
		        server_name localhost;
		        include $STACK_REPO/nginx/agentplatform-locations.conf;
		$extra
		    }
		}
	EOF
}

_stack_nginx_start() {
	local dir=$1 conf=$1/etc/nginx.conf pid changed=1
	_stack_write_nginx_conf "$dir" "$conf.new" || return 1
	cmp -s "$conf.new" "$conf" && changed=0
	mv -f "$conf.new" "$conf"
	if ! _stack_nginx "$dir" -t -q 2>"$dir/log/nginx-test.log"; then
		_stack_err "nginx rejects $conf:"
		cat "$dir/log/nginx-test.log" >&2
		return 1
	fi
	if pid=$(_stack_pid_of "$dir/run/nginx.pid" "nginx: master"); then
		[ $changed -eq 0 ] && return 0
		_stack_say "reloading nginx (its config changed)"
		kill -HUP "$pid" 2>/dev/null || true
		local tries=50
		while ((tries-- > 0)); do _stack_port_in_use "$ST_HTTP_PORT" && return 0; sleep 0.1; done
		_stack_err "nginx does not listen on port $ST_HTTP_PORT after a reload"
		tail -n 10 "$dir/log/nginx-error.log" >&2
		return 1
	fi
	if _stack_port_in_use "$ST_HTTP_PORT"; then
		_stack_err "port $ST_HTTP_PORT is already in use by another program (choose another with --port)"
		return 1
	fi
	rm -f "$dir/run/nginx.pid"
	_stack_nginx "$dir" </dev/null >>"$dir/log/nginx-error.log" 2>&1 ||
		{ _stack_err "nginx failed to start"; tail -n 10 "$dir/log/nginx-error.log" >&2; return 1; }
}

_stack_nginx_stop() { _stack_stop_pidfile "$1/run/nginx.pid" "nginx: master" nginx 15; }

_stack_write_config() {
	local dir=$1 f=$1/etc/agentplatform.conf x
	(
		umask 077
		{
			echo "# Generated by deploy/lib/stack.sh for the private stack in $dir; rewritten on every start."
			echo "# Settings of your own go in $dir/etc/agentplatform.extra.conf (appended below)."
			echo "db_socket = $dir/run/mysqld.sock"
			echo "db_user = agentplatform"
			echo "db_password = $ST_DB_PASSWORD"
			echo "db_name = agentplatform"
			echo "redis_host = 127.0.0.1"
			echo "redis_port = $ST_REDIS_PORT"
			echo "master_key = $ST_MASTER_KEY"
			echo "log_level = ${ST_LOG_LEVEL:-info}"
			echo "log_file = $dir/log/api.log"
			echo "public_base_url = http://127.0.0.1:$ST_HTTP_PORT"
			echo "sql_dir = $STACK_REPO/sql"
			echo "# A private stack talks to local test servers (weather fake, webhook receivers)."
			echo "allow_private_addresses = true"
			for x in "$ST_CONFIG_EXTRA" "$dir/etc/agentplatform.extra.conf"; do
				[ -n "$x" ] && [ -f "$x" ] || continue
				echo "# from $x"
				cat "$x"
			done
		} >"$f.new"
	) || return 1
	if cmp -s "$f.new" "$f"; then rm -f "$f.new"; else mv -f "$f.new" "$f"; fi
	chmod 600 "$f"
}

# The control script for one stack: DIR/bin/stack-ctl CMD (status, stop, redis-stop, ...).
_stack_write_ctl() {
	local dir=$1
	{
		echo '#!/usr/bin/env bash'
		echo "# Generated by deploy/lib/stack.sh: controls the private stack in $dir."
		echo '# Usage: stack-ctl status | stop | redis-stop | redis-start | admin ARG...'
		echo 'cmd=${1:-status}; shift || true'
		printf 'exec bash %q "$cmd" %q "$@"\n' "$STACK_REPO/deploy/lib/stack.sh" "$dir"
	} >"$dir/bin/stack-ctl"
	chmod 755 "$dir/bin/stack-ctl"
}

# Waits until /readyz answers 200 while every process stays up.
_stack_wait_ready() {
	local dir=$1 url="http://127.0.0.1:$ST_HTTP_PORT/readyz" code="" i
	local tries=$((STACK_READY_TIMEOUT * 5))
	for ((i = 0; i < tries; i++)); do
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" 2>/dev/null) || true
		if [ "$code" = 200 ] && _stack_procs_ok "$dir" quiet; then
			return 0
		fi
		if ((i % 5 == 0 || i == 1)) && ! _stack_procs_ok "$dir" quiet; then
			_stack_err "a part of the stack stopped while waiting for $url:"
			_stack_procs_ok "$dir" >&2
			_stack_tail_logs "$dir"
			return 1
		fi
		sleep 0.2
	done
	_stack_err "$url did not answer 200 within ${STACK_READY_TIMEOUT}s (last status: ${code:-none})"
	_stack_procs_ok "$dir" >&2
	_stack_tail_logs "$dir"
	return 1
}

_stack_line() { [ -n "$1" ] || printf '%-10s %s\n' "$2" "$3"; }

# Prints one line per process (unless the second argument is "quiet"); 0 when all run.
_stack_procs_ok() {
	local dir=$1 q=${2:-} ok=0 pid n
	if pid=$(_stack_pid_of "$dir/run/mysqld.pid" mariadbd); then
		_stack_line "$q" mariadb "running  pid $pid, socket $dir/run/mysqld.sock"
	else _stack_line "$q" mariadb "stopped"; ok=1; fi
	if pid=$(_stack_pid_of "$dir/run/redis.pid" redis-server); then
		_stack_line "$q" redis "running  pid $pid, 127.0.0.1:$ST_REDIS_PORT"
	else _stack_line "$q" redis "stopped"; ok=1; fi
	if pid=$(_stack_pid_of "$dir/run/api.pid" multiwatch); then
		n=$(_stack_children "$pid" | wc -l)
		_stack_line "$q" api "running  pid $pid (multiwatch), $n of $ST_WORKERS workers, $dir/run/api.sock"
		[ "$n" -ge 1 ] || ok=1
	else _stack_line "$q" api "stopped"; ok=1; fi
	if pid=$(_stack_pid_of "$dir/run/scheduler.pid" agentplatform-scheduler); then
		_stack_line "$q" scheduler "running  pid $pid"
	else _stack_line "$q" scheduler "stopped"; ok=1; fi
	if pid=$(_stack_pid_of "$dir/run/nginx.pid" "nginx: master"); then
		_stack_line "$q" nginx "running  pid $pid, http://127.0.0.1:$ST_HTTP_PORT"
	else _stack_line "$q" nginx "stopped"; ok=1; fi
	return $ok
}

# ---------------------------------------------------------------------------------------------
# The stack

# stack_start DIR [options]: creates what is missing under DIR, starts what is not running (a
# running part is kept; API workers and scheduler are restarted when their program, config or
# environment changed; nginx is reloaded when its config changed), applies the migrations and
# waits until /readyz answers 200. Options (each defaults to the previous start's value):
#   --port N            nginx's port on 127.0.0.1 (required the first time)
#   --redis-port N      Redis's port on 127.0.0.1 (default: a free one, kept)
#   --build DIR         the build directory holding the three programs
#   --workers N         API worker processes (default 2)
#   --nginx-workers N   nginx worker_processes, a number or auto (default 1)
#   --nginx-include F   an extra file included in the server block (bench-only locations)
#   --config-extra F    settings appended to the generated agentplatform.conf
#   --env VAR=VALUE     (repeatable) environment of the API workers, scheduler and admin runs;
#                       when given, replaces the previous start's list
#   --mariadb-opt OPT   (repeatable) an extra mariadbd option; when given, replaces the list
#   --log-level L       log_level of the programs (default info)
stack_start() {
	local dir=${1:?stack_start DIR [options]}
	shift
	dir=$(_stack_abs "$dir")
	eval "$_STACK_LOCALS"
	[ -f "$dir/etc/stack.state" ] && { _stack_load_state "$dir" || return 1; }
	local new_env=0 new_opts=0
	while [ $# -gt 0 ]; do
		case $1 in
		--port) ST_HTTP_PORT=$2; shift 2 ;;
		--redis-port) ST_REDIS_PORT=$2; shift 2 ;;
		--build) ST_BUILD=$(_stack_abs "$2"); shift 2 ;;
		--workers) ST_WORKERS=$2; shift 2 ;;
		--nginx-workers) ST_NGINX_WORKERS=$2; shift 2 ;;
		--nginx-include) ST_NGINX_INCLUDE=$(_stack_abs "$2"); shift 2 ;;
		--config-extra) ST_CONFIG_EXTRA=$(_stack_abs "$2"); shift 2 ;;
		--log-level) ST_LOG_LEVEL=$2; shift 2 ;;
		--env)
			[ $new_env -eq 0 ] && ST_ENV=() && new_env=1
			ST_ENV+=("$2"); shift 2 ;;
		--mariadb-opt)
			[ $new_opts -eq 0 ] && ST_MARIADB_OPTS=() && new_opts=1
			ST_MARIADB_OPTS+=("$2"); shift 2 ;;
		*) _stack_err "stack_start: unknown option $1"; return 2 ;;
		esac
	done
	[[ $ST_HTTP_PORT =~ ^[0-9]+$ ]] || { _stack_err "stack_start: --port N is required"; return 2; }
	[[ $ST_WORKERS =~ ^[1-9][0-9]*$ ]] || { _stack_err "stack_start: --workers must be a positive number"; return 2; }
	[ -n "$ST_BUILD" ] || ST_BUILD=$STACK_REPO/build/local
	local p
	for p in agentplatform-api agentplatform-scheduler agentplatform-admin; do
		[ -x "$ST_BUILD/$p" ] || { _stack_err "$ST_BUILD/$p is missing: build first (stack_build)"; return 1; }
	done
	# AF_UNIX paths are limited to 107 bytes.
	if [ ${#dir} -gt 80 ]; then
		_stack_err "stack directory path too long for unix sockets (max 80 characters): $dir"
		return 1
	fi
	if ! _stack_pid_of "$dir/run/nginx.pid" "nginx: master" >/dev/null && _stack_port_in_use "$ST_HTTP_PORT"; then
		_stack_err "port $ST_HTTP_PORT is already in use by another program (choose another with --port)"
		return 1
	fi
	mkdir -p "$dir"/{etc,run,log,mysql,redis,tmp,bin} || return 1
	chmod 700 "$dir/etc" "$dir/run"
	ln -sfn /etc/nginx/fastcgi_params "$dir/etc/fastcgi_params"
	ln -sfn /etc/nginx/mime.types "$dir/etc/mime.types"
	_stack_docs_links "$dir" || return 1

	# Redis keeps its port across starts unless something else took it meanwhile.
	if [ -z "$ST_REDIS_PORT" ] || { ! _stack_redis_running "$dir" && _stack_port_in_use "$ST_REDIS_PORT"; }; then
		ST_REDIS_PORT=$(stack_free_port "$ST_HTTP_PORT") || return 1
	fi
	# Secrets are made once and kept: the data is encrypted under the master key.
	if [ -z "$ST_MASTER_KEY" ]; then
		ST_MASTER_KEY=$(openssl rand -hex 32) && ST_DB_PASSWORD=$(openssl rand -hex 16) || return 1
	fi
	ST_REPO=$STACK_REPO
	_stack_save_state "$dir" || return 1
	_stack_write_config "$dir" || return 1
	_stack_write_ctl "$dir"

	_stack_mariadb_start "$dir" || return 1
	_stack_mariadb_setup "$dir" || return 1
	_stack_redis_start "$dir" || return 1
	_stack_env_cmd "$dir" "AGENTPLATFORM_LOG_FILE=$dir/log/admin.log"
	"${_stack_envcmd[@]}" "$ST_BUILD/agentplatform-admin" --config "$dir/etc/agentplatform.conf" migrate \
		</dev/null >>"$dir/log/migrate.log" 2>&1 ||
		{ _stack_err "agentplatform-admin migrate failed"; tail -n 20 "$dir/log/migrate.log" "$dir/log/admin.log" >&2 2>/dev/null; return 1; }
	_stack_api_start "$dir" || return 1
	_stack_scheduler_start "$dir" || return 1
	_stack_nginx_start "$dir" || return 1
	_stack_wait_ready "$dir" || return 1
	_stack_say "ready: http://127.0.0.1:$ST_HTTP_PORT ($dir)"
}

# stack_stop DIR: stops nginx, the API workers, the scheduler, Redis and MariaDB, each by the pid
# file under DIR and only if that pid is still the program it names; waits for each to exit.
stack_stop() {
	local dir=${1:?stack_stop DIR}
	dir=$(_stack_abs "$dir")
	[ -d "$dir/run" ] || { _stack_say "nothing to stop in $dir"; return 0; }
	_stack_nginx_stop "$dir"
	_stack_api_stop "$dir"
	_stack_scheduler_stop "$dir"
	_stack_redis_stop "$dir"
	_stack_stop_pidfile "$dir/run/mysqld.pid" mariadbd mariadb 60
	rm -f "$dir/run/mysqld.sock"
	_stack_say "stopped ($dir)"
}

# stack_status DIR: prints each part and whether /readyz answers; 0 when everything runs.
stack_status() {
	local dir=${1:?stack_status DIR}
	dir=$(_stack_abs "$dir")
	eval "$_STACK_LOCALS"
	if [ ! -f "$dir/etc/stack.state" ]; then
		echo "no stack in $dir"
		return 1
	fi
	_stack_load_state "$dir" || return 1
	local ok=0 code
	_stack_procs_ok "$dir" || ok=1
	if _stack_pid_of "$dir/run/nginx.pid" "nginx: master" >/dev/null; then
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "http://127.0.0.1:$ST_HTTP_PORT/readyz" 2>/dev/null) || true
		printf '%-10s %s\n' readyz "${code:-000} from http://127.0.0.1:$ST_HTTP_PORT/readyz"
		[ "$code" = 200 ] || ok=1
	else
		printf '%-10s %s\n' readyz "not asked (nginx is not running)"
	fi
	return $ok
}

stack_redis_stop() {
	local dir
	dir=$(_stack_abs "${1:?stack_redis_stop DIR}")
	_stack_redis_stop "$dir"
}

stack_redis_start() {
	local dir
	dir=$(_stack_abs "${1:?stack_redis_start DIR}")
	eval "$_STACK_LOCALS"
	_stack_load_state "$dir" || return 1
	_stack_redis_start "$dir"
}

# stack_admin DIR ARG...: runs the stack's agentplatform-admin with its config; its stdout is the
# admin's stdout (an id, a key), its log goes to DIR/log/admin.log.
stack_admin() {
	local dir
	dir=$(_stack_abs "${1:?stack_admin DIR ARG...}")
	shift
	eval "$_STACK_LOCALS"
	_stack_load_state "$dir" || return 1
	_stack_env_cmd "$dir" "AGENTPLATFORM_LOG_FILE=$dir/log/admin.log"
	"${_stack_envcmd[@]}" "$ST_BUILD/agentplatform-admin" --config "$dir/etc/agentplatform.conf" "$@"
}

# stack_get DIR NAME: prints one fact about the stack. NAME: url, http_port, redis_port, config,
# admin, build, db_socket, db_name, db_user, db_password, ctl.
stack_get() {
	local dir
	dir=$(_stack_abs "${1:?stack_get DIR NAME}")
	eval "$_STACK_LOCALS"
	_stack_load_state "$dir" || return 1
	case $2 in
	url) echo "http://127.0.0.1:$ST_HTTP_PORT" ;;
	http_port) echo "$ST_HTTP_PORT" ;;
	redis_port) echo "$ST_REDIS_PORT" ;;
	config) echo "$dir/etc/agentplatform.conf" ;;
	admin) echo "$ST_BUILD/agentplatform-admin" ;;
	build) echo "$ST_BUILD" ;;
	db_socket) echo "$dir/run/mysqld.sock" ;;
	db_name) echo agentplatform ;;
	db_user) echo agentplatform ;;
	db_password) echo "$ST_DB_PASSWORD" ;;
	ctl) echo "$dir/bin/stack-ctl" ;;
	*) _stack_err "stack_get: unknown name $2"; return 2 ;;
	esac
}

# stack_write_env DIR FILE API_KEY: writes FILE (mode 0600) with the four lines every client of
# a stack reads: AGENTPLATFORM_URL, AGENTPLATFORM_API_KEY, AGENTPLATFORM_CONFIG, AGENTPLATFORM_ADMIN.
stack_write_env() {
	local dir=${1:?} file=${2:?} key=${3?} url config admin
	url=$(stack_get "$dir" url) && config=$(stack_get "$dir" config) && admin=$(stack_get "$dir" admin) || return 1
	(
		umask 077
		printf 'AGENTPLATFORM_URL=%s\nAGENTPLATFORM_API_KEY=%s\nAGENTPLATFORM_CONFIG=%s\nAGENTPLATFORM_ADMIN=%s\n' \
			"$url" "$key" "$config" "$admin" >"$file.new"
	) && mv -f "$file.new" "$file" && chmod 600 "$file"
}

# stack_create_key DIR ACCOUNT_NAME RATE_LIMIT: creates an account and an all-scopes key that
# never expires; prints the key. The admin's notes on stderr go to DIR/log/admin.stderr.
stack_create_key() {
	local dir=${1:?} name=${2:?} rate=${3:?} acct="" key="" errlog
	errlog=$(_stack_abs "$dir")/log/admin.stderr
	acct=$(stack_admin "$dir" account create "$name" 2>>"$errlog") || acct=""
	if [ -z "$acct" ]; then
		_stack_err "agentplatform-admin account create failed:"
		tail -n 5 "$errlog" >&2
		return 1
	fi
	key=$(stack_admin "$dir" key create --account "$acct" --name "$name" --scopes all \
		--expires never --rate-limit "$rate" 2>>"$errlog") || key=""
	if [ -z "$key" ]; then
		_stack_err "agentplatform-admin key create failed:"
		tail -n 5 "$errlog" >&2
		return 1
	fi
	printf '%s\n' "$key"
}

stack_main() {
	local cmd=${1:-}
	shift || true
	case $cmd in
	start) stack_start "$@" ;;
	stop) stack_stop "$@" ;;
	status) stack_status "$@" ;;
	redis-stop) stack_redis_stop "$@" ;;
	redis-start) stack_redis_start "$@" ;;
	admin) stack_admin "$@" ;;
	get) stack_get "$@" ;;
	npm-ci) stack_npm_ci "$@" ;;
	*)
		echo "usage: stack.sh start|stop|status|redis-stop|redis-start|admin|get|npm-ci DIR [ARG...]" >&2
		return 2
		;;
	esac
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	stack_main "$@"
	exit $?
fi
