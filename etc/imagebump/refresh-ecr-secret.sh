#!/usr/bin/env bash
# refresh-ecr-secret.sh: the refreshed-secret mode for Amazon ECR. Writes
# <secrets_dir>/<namespace>/<name>/.dockerconfigjson with a fresh ECR login (user AWS, password
# from `aws ecr get-login-password`), for an ImageRepository whose spec.secretRef names
# <namespace>/<name>. ECR passwords last 12 hours: run this every few hours (the systemd timer
# imagebump-refresh-ecr.timer runs it every 6 h). The daemon reads the file at every scan, so
# the next scan uses the new password; nothing needs a restart or a reload.
#
# Usage: refresh-ecr-secret.sh [--registry HOST] [--secrets-dir DIR] [--namespace NS] [--name NAME]
# Each option falls back to an environment variable:
#   REGISTRY     <account>.dkr.ecr.<region>.amazonaws.com (or another ECR partition domain)
#   SECRETS_DIR  imagebump.toml's secrets_dir; must exist
#   NAMESPACE    default flux-system
#   NAME         default ecr-credentials
#   AWS_REGION   the region to ask for the password; default: the one in REGISTRY
#   AWS_CLI      the aws command; default aws (any AWS credential source the CLI supports)
#
# Exit codes: 0 written; 2 bad arguments or environment; 3 the aws CLI failed or printed no
# password; 4 the file could not be written. On any failure the previous file is left as it was.
#
# The password never reaches an argument list, the environment, a shell variable or the
# terminal, so `bash -x` traces nothing secret: it flows from the aws CLI's stdout through
# pipes into base64 and into a private temporary file (mode 0600, in the target directory so
# the final rename(2) is atomic). The temporary file's name starts with "..", which the daemon
# skips when it reads a secret directory (Kubernetes' own ..data entries look the same).

set -euo pipefail
umask 077

readonly PROG=refresh-ecr-secret
# The daemon's ECR host pattern (auth-providers/src/cloud/aws.rs, HOST_PATTERN): account,
# optional -fips, region, partition domain. ECR Public has no get-login-password here.
readonly ECR_HOST='^([0-9]+)\.dkr[.-]ecr(-fips)?\.([a-z0-9-]+)\.(amazonaws\.com|amazonaws\.com\.cn|amazonaws\.eu|sc2s\.sgov\.gov|c2s\.ic\.gov|cloud\.adc-e\.uk|csp\.hci\.ic\.gov|on\.aws)$'
# A Kubernetes namespace (DNS label) and Secret name (DNS subdomain): also keeps both single,
# safe path components.
readonly DNS_LABEL='^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$'
readonly DNS_SUBDOMAIN='^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$'
readonly REGION='^[a-z0-9-]+$'
# base64("AWS:"): what an empty password encodes to.
readonly EMPTY_AUTH='QVdTOg=='

die() {
    local code=$1
    shift
    printf '%s: %s\n' "$PROG" "$*" >&2
    exit "$code"
}

usage() {
    cat <<'USAGE'
Usage: refresh-ecr-secret.sh [--registry HOST] [--secrets-dir DIR] [--namespace NS] [--name NAME]

Writes SECRETS_DIR/NAMESPACE/NAME/.dockerconfigjson with a fresh ECR login (user AWS).
Options fall back to the environment: REGISTRY (<account>.dkr.ecr.<region>.amazonaws.com),
SECRETS_DIR (must exist), NAMESPACE (flux-system), NAME (ecr-credentials). AWS_REGION overrides
the region in the host; AWS_CLI names the aws command (aws).
Exit codes: 0 written, 2 bad arguments or environment, 3 the aws CLI failed, 4 cannot write.
USAGE
}

registry=${REGISTRY:-}
secrets_dir=${SECRETS_DIR:-}
namespace=${NAMESPACE:-flux-system}
name=${NAME:-ecr-credentials}
aws_cli=${AWS_CLI:-aws}

while (($# > 0)); do
    case $1 in
    --registry | --secrets-dir | --namespace | --name)
        (($# >= 2)) || die 2 "$1 needs a value"
        case $1 in
        --registry) registry=$2 ;;
        --secrets-dir) secrets_dir=$2 ;;
        --namespace) namespace=$2 ;;
        --name) name=$2 ;;
        esac
        shift 2
        ;;
    -h | --help)
        usage
        exit 0
        ;;
    *) die 2 "unknown argument ${1@Q} (see --help)" ;;
    esac
done

[[ -n $registry ]] || die 2 "no registry: set REGISTRY or --registry (<account>.dkr.ecr.<region>.amazonaws.com)"
[[ $registry =~ $ECR_HOST ]] ||
    die 2 "${registry@Q} is not an ECR registry host (<account>.dkr.ecr.<region>.amazonaws.com, no scheme, port or path)"
region=${AWS_REGION:-${BASH_REMATCH[3]}}
[[ $region =~ $REGION ]] || die 2 "AWS_REGION ${region@Q} is not a region name"
[[ -n $secrets_dir ]] || die 2 "no secrets directory: set SECRETS_DIR or --secrets-dir (imagebump.toml's secrets_dir)"
[[ -d $secrets_dir ]] || die 2 "secrets directory ${secrets_dir@Q} does not exist"
[[ $namespace =~ $DNS_LABEL ]] || die 2 "namespace ${namespace@Q} is not a Kubernetes namespace name"
[[ $name =~ $DNS_SUBDOMAIN ]] || die 2 "name ${name@Q} is not a Kubernetes Secret name"
command -v -- "$aws_cli" >/dev/null || die 2 "the aws CLI ${aws_cli@Q} was not found (install it or set AWS_CLI)"

dir=$secrets_dir/$namespace/$name
target=$dir/.dockerconfigjson
mkdir -p -- "$dir" || die 4 "cannot create $dir"
[[ ! -d $target ]] || die 4 "$target is a directory"
tmp=$(mktemp -- "$dir/..dockerconfigjson.XXXXXX") || die 4 "cannot create a temporary file in $dir"
trap 'rm -f -- "$tmp"' EXIT
chmod 0600 -- "$tmp" || die 4 "cannot make $tmp private"

# The docker config, with the password read from stdin. Registry host and base64 need no JSON
# escaping. Only `auth` is written (kubectl also writes username and password; docker and
# imagebump use `auth`), so the password is never handled as a separate string.
write_config() {
    printf '{"auths":{"%s":{"username":"AWS","auth":"' "$registry"
    {
        printf 'AWS:'
        tr -d '\r\n'
    } | base64 | tr -d '\n'
    printf '"}}}\n'
}

set +e
"$aws_cli" ecr get-login-password --region "$region" | write_config >"$tmp"
status=("${PIPESTATUS[@]}")
set -e
if ((status[0] != 0)); then
    die 3 "'$aws_cli ecr get-login-password --region $region' failed (exit ${status[0]}); $target is unchanged"
fi
((status[1] == 0)) || die 4 "cannot write $tmp; $target is unchanged"
if grep -qF -- "\"auth\":\"$EMPTY_AUTH\"" "$tmp"; then
    die 3 "'$aws_cli ecr get-login-password --region $region' printed no password; $target is unchanged"
fi

mv -f -- "$tmp" "$target" || die 4 "cannot rename $tmp to $target; $target is unchanged"
trap - EXIT
printf '%s: wrote %s for %s (region %s)\n' "$PROG" "$target" "$registry" "$region"
