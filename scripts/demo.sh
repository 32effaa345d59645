#!/bin/sh
# Walk through what an institution admin does first, on a throwaway SQLite database.
set -eu
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

say lmsbridge --version
say lmsbridge adapters
say lmsbridge db upgrade
say lmsbridge tenant add state-u --kind canvas --grade-sync item --base-url https://canvas.state-u.test
say lmsbridge tenant add tech-college --kind moodle --grade-sync course
say lmsbridge tenant add acme-corp --kind oracle --grade-sync final
say lmsbridge platform add --tenant state-u --issuer https://canvas.instructure.com \
    --client-id 10000000000042 --deployment-id 7:a1b2c3 \
    --auth-login-url https://sso.canvaslms.com/api/lti/authorize_redirect \
    --auth-token-url https://sso.canvaslms.com/login/oauth2/token \
    --jwks-url https://sso.canvaslms.com/api/lti/security/jwks
say lmsbridge program activate --tenant state-u data-science-program
echo "canvas-api-token-from-the-admin" | lmsbridge tenant set-secret state-u api_token
say lmsbridge tenant list
say lmsbridge tenant show state-u
printf '\nA mistake gets one clear line and a non-zero exit:\n'
say lmsbridge tenant add "State U" --kind canvas || true
