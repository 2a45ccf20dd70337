bucket         = "company-terraform-state"
key            = "lakehouse/prod/terraform.tfstate"
region         = "us-west-2"
encrypt        = true
dynamodb_table = "terraform-state-lock"
