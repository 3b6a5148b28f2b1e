# What both cloud-site modules compute alike, written once: terraform/modules/aws-site and
# terraform/modules/gcp-site each hold a relative symlink to this file. It reads site-variables.tf's
# inputs and the module's own wireguard_private_key; each module's main.tf installs the results its
# cloud's way (cloud-init on AWS, a startup script on Google Cloud).

locals {
  # The host holding the static address and the tunnel's end.
  gateway = coalesce(var.gateway, var.hosts[0])
  # Whether a key was given is no secret (the key is), and it decides which resources exist.
  wireguard  = nonsensitive(var.wireguard_private_key != null) && var.peer_public_key != null && var.peer_subnet != null
  key_path   = { for h in var.hosts : h => "${var.host_key_dir}/${h}/ssh_host_ed25519_key" }
  public_key = { for h in var.hosts : h => try(trimspace(file("${local.key_path[h]}.pub")), "") }
  # The gateway's end of the tunnel, as /etc/wireguard/wg0.conf.
  wg_conf = join("\n", concat(
    [
      "[Interface]",
      "PrivateKey = ${coalesce(var.wireguard_private_key, "none")}",
      "ListenPort = ${var.wireguard_port}",
      "",
      "[Peer]",
      "PublicKey = ${coalesce(var.peer_public_key, "none")}",
      "AllowedIPs = ${coalesce(var.peer_subnet, "none")}",
    ],
    var.peer_endpoint == null ? [] : ["Endpoint = ${var.peer_endpoint}:${var.peer_port}"],
    ["PersistentKeepalive = 25", ""],
  ))
}
