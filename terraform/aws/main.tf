# Ferry on AWS: one site (terraform/modules/aws-site) with Debian 12 hosts; outputs meet
# terraform/CONTRACT.md. Credentials come only from the AWS provider's standard environment
# (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY[/AWS_SESSION_TOKEN], or AWS_PROFILE), never from a
# variable. `offline_plan = true` (with fake credentials and `ami_id`) lets `terraform plan` run
# with no network, as the static test does.
# Its outputs, and the inputs it shares with the other cloud modules, are in cloud-env.tf and
# one-site-env.tf: symlinks into terraform/lib.

terraform {
  required_version = ">= 1.9"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100, < 6.0"
    }
  }
}

provider "aws" {
  region = var.region
  # Offline plans only: no call to STS, IMDS or the region list.
  skip_credentials_validation = var.offline_plan
  skip_requesting_account_id  = var.offline_plan
  skip_metadata_api_check     = var.offline_plan
  skip_region_validation      = var.offline_plan
  default_tags {
    tags = { FerryEnvironment = var.environment }
  }
}

module "site" {
  source                = "../modules/aws-site"
  cloud                 = var.cloud
  name_prefix           = "ferry-${var.environment}"
  hosts                 = var.hosts
  instance_type         = var.instance_type
  ami_id                = var.ami_id
  availability_zone     = var.availability_zone
  vpc_cidr              = var.vpc_cidr
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
