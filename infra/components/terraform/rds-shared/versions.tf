terraform {
  # 1.11 is the first release with write-only attributes (secret_string_wo), which keep the
  # application password out of the state; 1.10 brought S3-native state locking.
  required_version = ">= 1.11.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 5.87 added secret_string_wo to aws_secretsmanager_secret_version.
      version = "~> 5.87"
    }
    random = {
      source = "hashicorp/random"
      # 3.7 added the ephemeral random_password.
      version = "~> 3.7"
    }
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = var.tags
  }
}
