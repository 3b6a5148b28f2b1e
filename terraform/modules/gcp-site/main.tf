# One Google Cloud site of Ferry: a VPC network with one subnetwork, firewall rules that open to
# the internet only SSH, WireGuard and the service port, and Debian 12 hosts whose SSH host keys
# the controller generated before apply (a startup script installs them, so no key is trusted on
# first use). One host, the gateway, holds a static external address (allocated on its own, so the
# other site can name it without a cycle) and the site's end of a WireGuard tunnel; a route sends
# the other site's subnet to it. Outputs meet terraform/CONTRACT.md.
# Credentials: the Google provider's own environment variables, configured in the root module.
# Shared with the other cloud's site module through symlinks into terraform/lib: site-variables.tf
# (the inputs both take alike) and site-common.tf (the gateway, whether there is a tunnel, each
# host's key paths, the gateway's WireGuard configuration).
# The Google provider is not available offline: this module is only `terraform fmt`-checked here.

terraform {
  required_version = ">= 1.9" # validations that read other variables
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 5.0, < 7.0"
    }
  }
}

locals {
  startup_script = { for h in var.hosts : h => templatefile("${path.module}/startup.sh.tftpl", {
    name            = h
    authorized_keys = base64encode("${trimspace(var.ssh_public_key)}\n")
    host_key        = base64encode(sensitive(try(file(local.key_path[h]), "")))
    host_key_pub    = base64encode("${local.public_key[h]}\n")
    sshd_conf       = base64encode("# Ferry: root by key only; serve only the host key the controller pinned.\nHostKey /etc/ssh/ssh_host_ed25519_key\nPermitRootLogin prohibit-password\nPasswordAuthentication no\n")
    agent_conf      = base64encode("[InstanceSetup]\nset_host_keys = false\n")
    wireguard       = local.wireguard && h == local.gateway
    sysctl_conf     = base64encode("net.ipv4.ip_forward = 1\n")
    wg_conf         = base64encode(local.wg_conf)
  }) }
}

resource "google_compute_network" "site" {
  name                    = "${var.name_prefix}-${var.cloud}"
  auto_create_subnetworks = false
}

resource "google_compute_subnetwork" "hosts" {
  name          = "${var.name_prefix}-${var.cloud}-hosts"
  network       = google_compute_network.site.id
  region        = var.region
  ip_cidr_range = var.subnet_cidr
}

resource "google_compute_firewall" "ssh" {
  name          = "${var.name_prefix}-${var.cloud}-ssh"
  network       = google_compute_network.site.id
  direction     = "INGRESS"
  source_ranges = var.ssh_source_cidrs
  allow {
    protocol = "tcp"
    ports    = ["22"]
  }
}

resource "google_compute_firewall" "service" {
  name          = "${var.name_prefix}-${var.cloud}-service"
  network       = google_compute_network.site.id
  direction     = "INGRESS"
  source_ranges = ["0.0.0.0/0"]
  allow {
    protocol = "tcp"
    ports    = [tostring(var.service_port)]
  }
}

resource "google_compute_firewall" "wireguard" {
  count         = local.wireguard ? 1 : 0
  name          = "${var.name_prefix}-${var.cloud}-wireguard"
  network       = google_compute_network.site.id
  direction     = "INGRESS"
  source_ranges = [var.peer_endpoint == null ? "0.0.0.0/0" : "${var.peer_endpoint}/32"]
  allow {
    protocol = "udp"
    ports    = [tostring(var.wireguard_port)]
  }
}

# Migrations run between Ferry's hosts (rsync over SSH, CRIU's page servers, HAProxy to a
# container's port), here and across the tunnel; each host's nftables narrows that per migration.
resource "google_compute_firewall" "internal" {
  name          = "${var.name_prefix}-${var.cloud}-internal"
  network       = google_compute_network.site.id
  direction     = "INGRESS"
  source_ranges = compact([var.subnet_cidr, local.wireguard ? var.peer_subnet : ""])
  allow {
    protocol = "all"
  }
}

# Allocated apart from the instance, so the other site can put it in its tunnel's configuration
# before either instance exists.
resource "google_compute_address" "gateway" {
  name         = "${var.name_prefix}-${var.cloud}-gateway"
  region       = var.region
  address_type = "EXTERNAL"
}

# A new host key means a new instance, as on AWS: the startup script would install it only at the
# next boot, and until then the controller would refuse the host.
resource "terraform_data" "host_key" {
  for_each         = toset(var.hosts)
  triggers_replace = [local.public_key[each.key]]
}

resource "google_compute_instance" "host" {
  for_each     = toset(var.hosts)
  name         = "${var.name_prefix}-${each.key}"
  machine_type = var.machine_type
  zone         = var.zone
  # The gateway forwards the other site's traffic, which is neither from nor to its own address.
  can_ip_forward = local.wireguard && each.key == local.gateway
  labels         = { ferry-host = each.key, ferry-cloud = var.cloud }

  boot_disk {
    initialize_params {
      image = var.image
      size  = var.boot_disk_gb
    }
  }

  network_interface {
    subnetwork = google_compute_subnetwork.hosts.id
    access_config {
      nat_ip = each.key == local.gateway ? google_compute_address.gateway.address : null
    }
  }

  # Only root's key from the startup script: no project-wide keys, no OS Login.
  metadata = {
    block-project-ssh-keys = "TRUE"
    enable-oslogin         = "FALSE"
    startup-script         = local.startup_script[each.key]
  }

  lifecycle {
    replace_triggered_by = [terraform_data.host_key[each.key]]
    precondition {
      condition     = fileexists(local.key_path[each.key]) && startswith(local.public_key[each.key], "ssh-ed25519 ")
      error_message = "No SSH host key for ${each.key}: the controller generates it before apply (ssh-keygen -t ed25519 -N '' -f ${local.key_path[each.key]})."
    }
  }
}

# The other site's hosts are reached through the gateway's tunnel.
resource "google_compute_route" "peer" {
  count             = local.wireguard ? 1 : 0
  name              = "${var.name_prefix}-${var.cloud}-peer"
  network           = google_compute_network.site.id
  dest_range        = var.peer_subnet
  next_hop_instance = google_compute_instance.host[local.gateway].self_link
  priority          = 100
}
