# Ferry on Google Cloud: one site (terraform/modules/gcp-site) with Debian 12 hosts; outputs meet
# terraform/CONTRACT.md. Credentials come only from the Google provider's standard environment
# (GOOGLE_APPLICATION_CREDENTIALS or GOOGLE_CREDENTIALS; the project from GOOGLE_PROJECT unless
# `project` is set), never from a variable holding a secret.
# The Google provider is not available offline: here this module is only `terraform fmt`-checked, and
# its outputs held to the contract from the HCL (test/infra/terraform-contract.test.ts).
# Its outputs, and the inputs it shares with the other cloud modules, are in cloud-env.tf and
# one-site-env.tf: symlinks into terraform/lib.

terraform {
  required_version = ">= 1.9"
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 5.0, < 7.0"
    }
  }
}

provider "google" {
  project = var.project
  region  = var.region
  zone    = var.zone
  default_labels = {
    ferry-environment = var.environment
  }
}

module "site" {
  source                = "../modules/gcp-site"
  cloud                 = var.cloud
  name_prefix           = "ferry-${var.environment}"
  hosts                 = var.hosts
  machine_type          = var.machine_type
  image                 = var.image
  region                = var.region
  zone                  = var.zone
  subnet_cidr           = var.subnet_cidr
  service_port          = var.service_port
  ssh_source_cidrs      = var.ssh_source_cidrs
  ssh_public_key        = var.ssh_public_key
  host_key_dir          = var.host_key_dir
  wireguard_private_key = var.wireguard_private_key
  peer_public_key       = var.peer_public_key
  peer_endpoint         = var.peer_endpoint
  peer_subnet           = var.peer_subnet
}
