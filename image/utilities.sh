#!/bin/bash
# Often used tools.
set -euo pipefail
# shellcheck source=image/buildconfig # (/bd_build/ exists in the build only)
source /bd_build/buildconfig
set -x

minimal_apt_get_install curl less vim-tiny psmisc procps gpg-agent dirmngr
## vim-tiny as `vim` (and `vi`, which it already provides), via alternatives
## so that installing full vim later takes over.
update-alternatives --install /usr/bin/vim vim /usr/bin/vim.tiny 10

## setuser and install_clean arrive with the Dockerfile's COPY of the tools
## (see system_services.sh for their /sbin names).
