# Sourced by load.sh and open_loop.sh. make_token NAME sets $token to a new API token, named NAME,
# of the benchmark administrator ($user, $password): the first start creates that account through
# the setup route, later runs sign in as it. Reads url and work. The token needs no CSRF header.
user=loadbench
password="load benchmark password"
make_token() {
    jar="$work/cookies.txt"
    rm -f "$jar"
    account="{\"name\":\"$user\",\"password\":\"$password\"}"
    body=$(curl -sf -c "$jar" -H 'Content-Type: application/json' -d "$account" "$url/api/v1/setup" ||
           curl -sf -c "$jar" -H 'Content-Type: application/json' -d "$account" "$url/api/v1/login") ||
        { echo "could not create or sign in as the benchmark administrator" >&2; exit 1; }
    csrf=$(printf '%s' "$body" | sed -n 's/.*"csrf_token":"\([^"]*\)".*/\1/p')
    token=$(curl -sf -b "$jar" -H 'Content-Type: application/json' -H "X-CSRF-Token: $csrf" \
            -d "{\"name\":\"$1\"}" "$url/api/v1/tokens" | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
    [ -n "$token" ] || { echo "could not create an API token" >&2; exit 1; }
}
