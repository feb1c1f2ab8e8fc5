#!/usr/bin/env bash
# start-postgres.sh — a throwaway PostgreSQL cluster on loopback for the store tests.
#
#   server/store/testdata/start-postgres.sh start [DIR]   # prints a DSN on stdout
#   server/store/testdata/start-postgres.sh stop  [DIR]
#
# DIR defaults to ${TMPDIR:-/tmp}/prefer-pg. The cluster listens on 127.0.0.1 only, on
# the first free port from 55432, with trust authentication (it holds test data
# only) and the server's default durability settings. It needs the Debian package
# (apt-get install -y postgresql); when run as root it runs PostgreSQL as the
# "postgres" user, which root cannot be. Starting a cluster that already runs only
# prints its DSN again. Use it as
#
#   export PREFER_TEST_PG_DSN="$(server/store/testdata/start-postgres.sh start)"
set -euo pipefail

cmd="${1:-start}"
dir="${2:-${TMPDIR:-/tmp}/prefer-pg}"

bindir=""
for v in 17 16 15 14 13; do
	if [ -x "/usr/lib/postgresql/$v/bin/pg_ctl" ]; then
		bindir="/usr/lib/postgresql/$v/bin"
		break
	fi
done
if [ -z "$bindir" ]; then
	echo "start-postgres.sh: PostgreSQL is not installed; run: apt-get install -y postgresql" >&2
	exit 1
fi

# as_pg runs a command as the cluster's owner.
as_pg() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

dsn() {
	echo "postgres://postgres@127.0.0.1:$(cat "$dir/port")/postgres?sslmode=disable"
}

case "$cmd" in
start)
	mkdir -p "$dir"
	if [ "$(id -u)" = 0 ]; then
		chown postgres:postgres "$dir"
	fi
	if [ -f "$dir/data/postmaster.pid" ] && as_pg "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
		dsn
		exit 0
	fi
	if [ ! -f "$dir/data/PG_VERSION" ]; then
		as_pg "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
			{ cat "$dir/initdb.log" >&2; exit 1; }
	fi
	port=55432
	while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
		port=$((port + 1))
	done
	echo "$port" | as_pg tee "$dir/port" >/dev/null
	as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
		-o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=200" start >&2 ||
		{ cat "$dir/server.log" >&2; exit 1; }
	dsn
	;;
stop)
	if [ -f "$dir/data/postmaster.pid" ]; then
		as_pg "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >&2
	fi
	;;
*)
	echo "usage: start-postgres.sh start|stop [DIR]" >&2
	exit 2
	;;
esac
