# One AWS site of Ferry: a VPC with one public subnet, a security group that opens to the
# internet only SSH, WireGuard and the service port, and Debian 12 hosts whose SSH host keys the
# controller generated before apply (cloud-init installs them, so no key is trusted on first use).
# One host, the gateway, holds a static public address (an Elastic IP allocated on its own, so the
# other site can name it without a cycle) and the site's end of a WireGuard tunnel; the VPC routes
# the other site's subnet to it. Outputs meet terraform/CONTRACT.md.
# Credentials: the AWS provider's own environment variables, configured in the root module.
# Shared with the other cloud's site module through symlinks into terraform/lib: site-variables.tf
# (the inputs both take alike) and site-common.tf (the gateway, whether there is a tunnel, each
# host's key paths, the gateway's WireGuard configuration).

terraform {
  required_version = ">= 1.9" # validations that read other variables
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0, < 6.0"
    }
  }
}

locals {
  ami_id = var.ami_id != null ? var.ami_id : data.aws_ami.debian12[0].id

  # cloud-init: root takes the controller's key; the host serves exactly the pinned ed25519 key.
  base_config = { for h in var.hosts : h => {
    disable_root        = false
    ssh_pwauth          = false
    ssh_authorized_keys = [trimspace(var.ssh_public_key)]
    ssh_deletekeys      = true # cloud-init generates none when ssh_keys is given
    ssh_keys = {
      ed25519_private = sensitive(try(file(local.key_path[h]), ""))
      ed25519_public  = local.public_key[h]
    }
  } }
  gateway_config = {
    package_update = true
    packages       = ["wireguard-tools"]
    write_files = [
      { path = "/etc/wireguard/wg0.conf", permissions = "0600", content = local.wg_conf },
      { path = "/etc/sysctl.d/60-ferry-gateway.conf", permissions = "0644", content = "net.ipv4.ip_forward = 1\n" },
    ]
    runcmd = [
      ["sysctl", "-p", "/etc/sysctl.d/60-ferry-gateway.conf"],
      ["systemctl", "enable", "--now", "wg-quick@wg0"],
    ]
  }
  user_data = { for h in var.hosts : h => join("", [
    "#cloud-config\n",
    yamlencode(local.base_config[h]),
    local.wireguard && h == local.gateway ? yamlencode(local.gateway_config) : "",
  ]) }
}

data "aws_ami" "debian12" {
  count       = var.ami_id == null ? 1 : 0
  most_recent = true
  owners      = ["136693071363"] # Debian's cloud team
  filter {
    name   = "name"
    values = ["debian-12-amd64-*"]
  }
  filter {
    name   = "architecture"
    values = ["x86_64"]
  }
}

resource "aws_vpc" "site" {
  cidr_block           = var.vpc_cidr
  enable_dns_hostnames = true
  tags                 = { Name = "${var.name_prefix}-${var.cloud}" }
}

resource "aws_internet_gateway" "site" {
  vpc_id = aws_vpc.site.id
  tags   = { Name = "${var.name_prefix}-${var.cloud}" }
}

resource "aws_subnet" "hosts" {
  vpc_id                  = aws_vpc.site.id
  cidr_block              = var.subnet_cidr
  availability_zone       = var.availability_zone
  map_public_ip_on_launch = true
  tags                    = { Name = "${var.name_prefix}-${var.cloud}-hosts" }
}

resource "aws_route_table" "hosts" {
  vpc_id = aws_vpc.site.id
  tags   = { Name = "${var.name_prefix}-${var.cloud}-hosts" }
}

resource "aws_route" "internet" {
  route_table_id         = aws_route_table.hosts.id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = aws_internet_gateway.site.id
}

# The other site's hosts are reached through the gateway's tunnel.
resource "aws_route" "peer" {
  count                  = local.wireguard ? 1 : 0
  route_table_id         = aws_route_table.hosts.id
  destination_cidr_block = var.peer_subnet
  network_interface_id   = aws_instance.host[local.gateway].primary_network_interface_id
}

resource "aws_route_table_association" "hosts" {
  subnet_id      = aws_subnet.hosts.id
  route_table_id = aws_route_table.hosts.id
}

resource "aws_security_group" "hosts" {
  name        = "${var.name_prefix}-${var.cloud}-hosts"
  description = "Ferry hosts: SSH, WireGuard and the service port from outside; Ferry's hosts among themselves"
  vpc_id      = aws_vpc.site.id
  tags        = { Name = "${var.name_prefix}-${var.cloud}-hosts" }
}

resource "aws_vpc_security_group_ingress_rule" "ssh" {
  for_each          = toset(var.ssh_source_cidrs)
  security_group_id = aws_security_group.hosts.id
  description       = "SSH from the controller"
  ip_protocol       = "tcp"
  from_port         = 22
  to_port           = 22
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_ingress_rule" "service" {
  security_group_id = aws_security_group.hosts.id
  description       = "The migrated service"
  ip_protocol       = "tcp"
  from_port         = var.service_port
  to_port           = var.service_port
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_ingress_rule" "wireguard" {
  count             = local.wireguard ? 1 : 0
  security_group_id = aws_security_group.hosts.id
  description       = "WireGuard from the other site's gateway"
  ip_protocol       = "udp"
  from_port         = var.wireguard_port
  to_port           = var.wireguard_port
  cidr_ipv4         = var.peer_endpoint == null ? "0.0.0.0/0" : "${var.peer_endpoint}/32"
}

# Migrations run between Ferry's hosts (rsync over SSH, CRIU's page servers, HAProxy to a
# container's port), here and across the tunnel; each host's nftables narrows that per migration.
resource "aws_vpc_security_group_ingress_rule" "internal" {
  for_each          = toset(compact([var.subnet_cidr, local.wireguard ? var.peer_subnet : ""]))
  security_group_id = aws_security_group.hosts.id
  description       = "Ferry's hosts"
  ip_protocol       = "-1"
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_egress_rule" "all" {
  security_group_id = aws_security_group.hosts.id
  description       = "Packages, the controller's hold server, the tunnel"
  ip_protocol       = "-1"
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_instance" "host" {
  for_each                    = toset(var.hosts)
  ami                         = local.ami_id
  instance_type               = var.instance_type
  subnet_id                   = aws_subnet.hosts.id
  vpc_security_group_ids      = [aws_security_group.hosts.id]
  associate_public_ip_address = true
  # The gateway forwards the other site's traffic, which is neither from nor to its own address.
  source_dest_check           = !(local.wireguard && each.key == local.gateway)
  user_data                   = local.user_data[each.key]
  user_data_replace_on_change = true # cloud-init reads user data once: new keys need a new instance

  metadata_options {
    http_endpoint = "enabled"
    http_tokens   = "required"
  }

  root_block_device {
    volume_size = var.root_volume_gb
    volume_type = "gp3"
  }

  tags = { Name = "${var.name_prefix}-${each.key}", FerryHost = each.key, FerryCloud = var.cloud }

  lifecycle {
    precondition {
      condition     = fileexists(local.key_path[each.key]) && startswith(local.public_key[each.key], "ssh-ed25519 ")
      error_message = "No SSH host key for ${each.key}: the controller generates it before apply (ssh-keygen -t ed25519 -N '' -f ${local.key_path[each.key]})."
    }
  }
}

# Allocated apart from the instance, so the other site can put it in its tunnel's configuration
# before either instance exists.
resource "aws_eip" "gateway" {
  domain     = "vpc"
  tags       = { Name = "${var.name_prefix}-${var.cloud}-gateway" }
  depends_on = [aws_internet_gateway.site]
}

resource "aws_eip_association" "gateway" {
  allocation_id = aws_eip.gateway.id
  instance_id   = aws_instance.host[local.gateway].id
}
