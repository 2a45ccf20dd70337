# The security configuration every cluster the DAGs create names (conf: emr.cluster.security_configuration;
# RunJobFlow's SecurityConfiguration):
# - at rest: EMRFS writes to S3 with SSE-KMS under the lakehouse key; the nodes' local disks (HDFS,
#   shuffle and spill files) and their EBS volumes are encrypted with the same key;
# - in transit: TLS between the nodes (Spark RPC and shuffle, HDFS, YARN) with the certificates of a
#   PEM zip in S3 (var.emr_tls_certificates_s3_uri: privateKey.pem, certificateChain.pem,
#   trustedCertificates.pem), owned by whoever issues them, never by Terraform's state;
# - IMDSv2 only (a session token for every metadata call, hop limit 2 for the containers of YARN):
#   EMR takes no launch template, so this is where EMR sets the nodes' http_tokens to required.
#   EMR 7 releases support IMDSv2 throughout.

resource "aws_emr_security_configuration" "this" {
  name = var.emr_security_configuration_name

  configuration = jsonencode({
    EncryptionConfiguration = {
      EnableAtRestEncryption    = true
      EnableInTransitEncryption = true
      AtRestEncryptionConfiguration = {
        S3EncryptionConfiguration = {
          EncryptionMode = "SSE-KMS"
          AwsKmsKey      = aws_kms_key.lakehouse.arn
        }
        LocalDiskEncryptionConfiguration = {
          EncryptionKeyProviderType = "AwsKms"
          AwsKmsKey                 = aws_kms_key.lakehouse.arn
          EnableEbsEncryption       = true
        }
      }
      InTransitEncryptionConfiguration = {
        TLSCertificateConfiguration = {
          CertificateProviderType = "PEM"
          S3Object                = var.emr_tls_certificates_s3_uri
        }
      }
    }
    InstanceMetadataServiceConfiguration = {
      MinimumInstanceMetadataServiceVersion = 2
      HttpPutResponseHopLimit               = 2
    }
  })
}
