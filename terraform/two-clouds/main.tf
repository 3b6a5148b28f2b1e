# Ferry across two clouds, as in the paper: an AWS site and a Google Cloud site, each with Debian 12
# hosts, joined by a WireGuard tunnel between one gateway per site. Each gateway's static public
# address is its own resource (aws_eip, google_compute_address), so each site's tunnel names the
# other's endpoint without a dependency cycle. Outputs meet terraform/CONTRACT.md: hosts of both
# sites, `cloud` telling them apart, `peer_address` their private address across the tunnel.
# Credentials come only from each provider's standard environment variables.
# The Google provider is not available offline: here this module is only `terraform fmt`-checked, and
# its outputs held to the contract from the HCL (test/infra/terraform-contract.test.ts).
# `environment` and `controller_address` (outputs, from inputs): cloud-env.tf, a symlink into
# terraform/lib shared with terraform/aws and terraform/gcp.

terraform {
  required_version = ">= 1.9"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100, < 6.0"
    }
    google = {
      source  = "hashicorp/google"
      version = ">= 5.0, < 7.0"
    }
  }
}

provider "aws" {
  region = var.aws_region
  default_tags {
    tags = { FerryEnvironment = var.environment }
  }
}

provider "google" {
  project = var.gcp_project
  region  = var.gcp_region
  zone    = var.gcp_zone
  default_labels = {
    ferry-environment = var.environment
  }
}

module "aws" {
  source                = "../modules/aws-site"
  cloud                 = var.aws_cloud
  name_prefix           = "ferry-${var.environment}"
  hosts                 = var.aws_hosts
  instance_type         = var.aws_instance_type
  ami_id                = var.aws_ami_id
  subnet_cidr           = var.aws_subnet_cidr
  vpc_cidr              = var.aws_vpc_cidr
  service_port          = var.service_port
  ssh_source_cidrs      = var.ssh_source_cidrs
  ssh_public_key        = var.ssh_public_key
  host_key_dir          = var.host_key_dir
  wireguard_private_key = var.aws_wireguard_private_key
  peer_public_key       = var.gcp_wireguard_public_key
  peer_endpoint         = module.gcp.gateway_public_ip
  peer_subnet           = var.gcp_subnet_cidr
}

module "gcp" {
  source                = "../modules/gcp-site"
  cloud                 = var.gcp_cloud
  name_prefix           = "ferry-${var.environment}"
  hosts                 = var.gcp_hosts
  machine_type          = var.gcp_machine_type
  region                = var.gcp_region
  zone                  = var.gcp_zone
  subnet_cidr           = var.gcp_subnet_cidr
  service_port          = var.service_port
  ssh_source_cidrs      = var.ssh_source_cidrs
  ssh_public_key        = var.ssh_public_key
  host_key_dir          = var.host_key_dir
  wireguard_private_key = var.gcp_wireguard_private_key
  peer_public_key       = var.aws_wireguard_public_key
  peer_endpoint         = module.aws.gateway_public_ip
  peer_subnet           = var.aws_subnet_cidr
}

output "hosts" {
  description = "Both sites' hosts (terraform/CONTRACT.md); `cloud` says which site each is in."
  value       = concat(module.aws.hosts, module.gcp.hosts)
  precondition {
    condition     = length(setintersection(var.aws_hosts, var.gcp_hosts)) == 0
    error_message = "Host names must be unique across both clouds."
  }
}

output "gateway_public_ips" {
  description = "Each site's WireGuard gateway address."
  value       = { (var.aws_cloud) = module.aws.gateway_public_ip, (var.gcp_cloud) = module.gcp.gateway_public_ip }
}
