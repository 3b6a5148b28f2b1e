# The inputs both cloud-site modules take the same way, declared once: terraform/modules/aws-site
# and terraform/modules/gcp-site each hold a relative symlink to this file (Terraform has no include
# for variables, and reads a symlinked .tf like its own). What differs per cloud (the site's default
# name and subnet, machine types and images, and where the WireGuard private key ends up, hence
# wireguard_private_key) stays in each module's variables.tf. site-common.tf computes from these.

variable "name_prefix" {
  description = "Prefix of every resource's Name tag, so several environments can share an account."
  type        = string
  default     = "ferry"
}

variable "hosts" {
  description = "Host names, one Debian 12 machine each. The first is the WireGuard gateway unless `gateway` names another."
  type        = list(string)
  validation {
    condition     = length(var.hosts) > 0 && alltrue([for h in var.hosts : can(regex("^[a-z][a-z0-9-]{0,30}$", h))])
    error_message = "Give at least one host; host names must match ^[a-z][a-z0-9-]{0,30}$."
  }
}

variable "gateway" {
  description = "The host that holds the site's static public address and its end of the WireGuard tunnel. Default: the first host."
  type        = string
  default     = null
  validation {
    condition     = var.gateway == null || contains(var.hosts, coalesce(var.gateway, "-"))
    error_message = "gateway must be one of the hosts."
  }
}

variable "service_port" {
  description = "The TCP port the migrated service answers on from the internet (HAProxy's front)."
  type        = number
  default     = 80
}

variable "ssh_source_cidrs" {
  description = "Who may reach SSH (22/tcp): the controller's addresses. SSH takes keys only and the controller pins host keys."
  type        = list(string)
  default     = ["0.0.0.0/0"]
}

variable "ssh_public_key" {
  description = "The controller's SSH public key (`ssh-ed25519 AAAA…`), authorised for root on every host."
  type        = string
  validation {
    condition     = can(regex("^(ssh-(ed25519|rsa)|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/=]+", var.ssh_public_key))
    error_message = "ssh_public_key must be an OpenSSH public key line (ssh-ed25519 AAAA…)."
  }
}

variable "host_key_dir" {
  description = "Controller directory with each host's SSH host key, generated before apply: <dir>/<host>/ssh_host_ed25519_key and .pub. Installed at boot (on AWS by cloud-init, on Google Cloud by a startup script), so no host key is ever trusted on first use."
  type        = string
  validation {
    condition     = startswith(var.host_key_dir, "/")
    error_message = "host_key_dir must be an absolute path on the controller."
  }
}

variable "wireguard_port" {
  description = "UDP port the gateway's WireGuard listens on."
  type        = number
  default     = 51820
}

variable "peer_public_key" {
  description = "The other site's gateway WireGuard public key. Null: no tunnel."
  type        = string
  default     = null
}

variable "peer_endpoint" {
  description = "The other site's gateway public address (its static address). Null: this side waits for the peer to connect, and WireGuard's port is open to any address."
  type        = string
  default     = null
}

variable "peer_port" {
  description = "UDP port of the other site's WireGuard."
  type        = number
  default     = 51820
}

variable "peer_subnet" {
  description = "The other site's host subnet, routed through the tunnel. Null: no tunnel."
  type        = string
  default     = null
}
