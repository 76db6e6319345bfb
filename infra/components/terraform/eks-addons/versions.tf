terraform {
  # 1.10 is the first release with S3-native state locking (use_lockfile), which the stacks use.
  required_version = ">= 1.10.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.80"
    }
    helm = {
      source = "hashicorp/helm"
      # 2.x: the kubernetes connection is a nested block (3.x made it an attribute).
      version = "~> 2.17"
    }
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = var.tags
  }
}

# The cluster's API server has a private endpoint only: run this component from inside the VPC
# or a network connected to it (docs/deploy.md). The token comes from the AWS CLI for the
# identity running Terraform, which the eks component made a cluster admin.
provider "helm" {
  kubernetes {
    host                   = var.cluster_endpoint
    cluster_ca_certificate = base64decode(var.cluster_certificate_authority_data)

    exec {
      api_version = "client.authentication.k8s.io/v1beta1"
      command     = "aws"
      args        = ["eks", "get-token", "--cluster-name", var.cluster_name, "--region", var.region]
    }
  }
}
