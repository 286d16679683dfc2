//! Documented example responses for the mapping tests: the AWS CLI reference's examples
//! (`describe-export-tasks`, `describe-db-snapshots`, `describe-db-cluster-snapshots`,
//! `describe-blue-green-deployments`), written in the Query API's XML shape.

pub const NS: &str = "http://rds.amazonaws.com/doc/2014-10-31/";

/// The `describe-export-tasks` example of the AWS CLI reference, as XML.
pub fn export_example() -> String {
    format!(
        r#"<DescribeExportTasksResponse xmlns="{NS}">
  <DescribeExportTasksResult>
    <ExportTasks>
      <ExportTask>
        <ExportTaskIdentifier>test-snapshot-export</ExportTaskIdentifier>
        <SourceArn>arn:aws:rds:us-west-2:123456789012:snapshot:test-snapshot</SourceArn>
        <SnapshotTime>2020-03-02T18:26:28.163Z</SnapshotTime>
        <TaskStartTime>2020-03-02T18:57:56.896Z</TaskStartTime>
        <TaskEndTime>2020-03-02T19:10:31.985Z</TaskEndTime>
        <S3Bucket>mybucket</S3Bucket>
        <S3Prefix></S3Prefix>
        <IamRoleArn>arn:aws:iam::123456789012:role/service-role/ExportRole</IamRoleArn>
        <KmsKeyId>arn:aws:kms:us-west-2:123456789012:key/abcd0000-7fca-4128-82f2-aabbccddeeff</KmsKeyId>
        <Status>COMPLETE</Status>
        <PercentProgress>100</PercentProgress>
        <TotalExtractedDataInGB>0</TotalExtractedDataInGB>
      </ExportTask>
      <ExportTask>
        <ExportTaskIdentifier>my-s3-export</ExportTaskIdentifier>
        <SourceArn>arn:aws:rds:us-west-2:123456789012:snapshot:db5-snapshot-test</SourceArn>
        <SnapshotTime>2020-03-27T20:48:42.023Z</SnapshotTime>
        <S3Bucket>mybucket</S3Bucket>
        <S3Prefix></S3Prefix>
        <Status>STARTING</Status>
        <PercentProgress>0</PercentProgress>
        <TotalExtractedDataInGB>0</TotalExtractedDataInGB>
      </ExportTask>
    </ExportTasks>
  </DescribeExportTasksResult>
  <ResponseMetadata>
    <RequestId>0b9c6a8e-6d3c-4f6e-9f5a-1a2b3c4d5e6f</RequestId>
  </ResponseMetadata>
</DescribeExportTasksResponse>"#
    )
}

/// The `describe-db-snapshots` example of the AWS CLI reference, as XML.
pub fn snapshot_example(status: &str, progress: u8) -> String {
    format!(
        r#"<DescribeDBSnapshotsResponse xmlns="{NS}">
  <DescribeDBSnapshotsResult>
    <DBSnapshots>
      <DBSnapshot>
        <DBSnapshotIdentifier>mydbsnapshot</DBSnapshotIdentifier>
        <DBInstanceIdentifier>mysqldb</DBInstanceIdentifier>
        <SnapshotCreateTime>2018-02-08T22:28:08.598Z</SnapshotCreateTime>
        <Engine>mysql</Engine>
        <AllocatedStorage>20</AllocatedStorage>
        <Status>{status}</Status>
        <Port>3306</Port>
        <AvailabilityZone>us-east-1f</AvailabilityZone>
        <VpcId>vpc-6594f31c</VpcId>
        <InstanceCreateTime>2018-02-08T22:24:55.973Z</InstanceCreateTime>
        <MasterUsername>mysqladmin</MasterUsername>
        <EngineVersion>5.6.37</EngineVersion>
        <LicenseModel>general-public-license</LicenseModel>
        <SnapshotType>manual</SnapshotType>
        <OptionGroupName>default:mysql-5-6</OptionGroupName>
        <PercentProgress>{progress}</PercentProgress>
        <StorageType>gp2</StorageType>
        <Encrypted>false</Encrypted>
        <DBSnapshotArn>arn:aws:rds:us-east-1:123456789012:snapshot:mydbsnapshot</DBSnapshotArn>
        <IAMDatabaseAuthenticationEnabled>false</IAMDatabaseAuthenticationEnabled>
        <ProcessorFeatures/>
        <DbiResourceId>db-AKIAIOSFODNN7EXAMPLE</DbiResourceId>
      </DBSnapshot>
    </DBSnapshots>
  </DescribeDBSnapshotsResult>
  <ResponseMetadata><RequestId>1</RequestId></ResponseMetadata>
</DescribeDBSnapshotsResponse>"#
    )
}

pub fn cluster_snapshot_example(status: &str) -> String {
    format!(
        r#"<DescribeDBClusterSnapshotsResponse xmlns="{NS}">
  <DescribeDBClusterSnapshotsResult>
    <DBClusterSnapshots>
      <DBClusterSnapshot>
        <AvailabilityZones>
          <AvailabilityZone>us-east-1a</AvailabilityZone>
          <AvailabilityZone>us-east-1b</AvailabilityZone>
        </AvailabilityZones>
        <DBClusterSnapshotIdentifier>myclustersnapshotcopy</DBClusterSnapshotIdentifier>
        <DBClusterIdentifier>myaurora</DBClusterIdentifier>
        <SnapshotCreateTime>2019-06-04T09:16:42.649Z</SnapshotCreateTime>
        <Engine>aurora-mysql</Engine>
        <AllocatedStorage>0</AllocatedStorage>
        <Status>{status}</Status>
        <Port>0</Port>
        <ClusterCreateTime>2019-04-15T14:18:42.785Z</ClusterCreateTime>
        <MasterUsername>myadmin</MasterUsername>
        <EngineVersion>5.7.mysql_aurora.2.04.2</EngineVersion>
        <SnapshotType>manual</SnapshotType>
        <PercentProgress>45</PercentProgress>
        <StorageEncrypted>true</StorageEncrypted>
        <DBClusterSnapshotArn>arn:aws:rds:us-east-1:123456789012:cluster-snapshot:myclustersnapshotcopy</DBClusterSnapshotArn>
      </DBClusterSnapshot>
    </DBClusterSnapshots>
  </DescribeDBClusterSnapshotsResult>
  <ResponseMetadata><RequestId>2</RequestId></ResponseMetadata>
</DescribeDBClusterSnapshotsResponse>"#
    )
}

/// Example 1 of the AWS CLI reference's `describe-blue-green-deployments`, as XML, with
/// the deployment and member statuses and the task statuses given.
pub fn blue_green_example(status: &str, member: &str, tasks: [&str; 4]) -> String {
    let members: String = [
        ("my-db-instance", "my-db-instance-green-rkfbpe"),
        ("my-db-instance-replica-1", "my-db-instance-replica-1-green-j382ha"),
    ]
    .iter()
    .map(|(s, t)| {
        format!(
            "<member><SourceMember>arn:aws:rds:us-east-1:123456789012:db:{s}</SourceMember><TargetMember>arn:aws:rds:us-east-1:123456789012:db:{t}</TargetMember><Status>{member}</Status></member>"
        )
    })
    .collect();
    let names = [
        "CREATING_READ_REPLICA_OF_SOURCE",
        "DB_ENGINE_VERSION_UPGRADE",
        "CONFIGURE_BACKUPS",
        "CREATING_TOPOLOGY_OF_SOURCE",
    ];
    let tasks: String = names
        .iter()
        .zip(tasks)
        .map(|(n, s)| format!("<member><Name>{n}</Name><Status>{s}</Status></member>"))
        .collect();
    format!(
        r#"<DescribeBlueGreenDeploymentsResponse xmlns="{NS}">
  <DescribeBlueGreenDeploymentsResult>
    <BlueGreenDeployments>
      <member>
        <BlueGreenDeploymentIdentifier>bgd-v53303651eexfake</BlueGreenDeploymentIdentifier>
        <BlueGreenDeploymentName>bgd-cli-test-instance</BlueGreenDeploymentName>
        <Source>arn:aws:rds:us-east-1:123456789012:db:my-db-instance</Source>
        <Target>arn:aws:rds:us-east-1:123456789012:db:my-db-instance-green-rkfbpe</Target>
        <SwitchoverDetails>{members}</SwitchoverDetails>
        <Tasks>{tasks}</Tasks>
        <Status>{status}</Status>
        <CreateTime>2022-02-25T21:18:51.183Z</CreateTime>
        <TagList/>
      </member>
    </BlueGreenDeployments>
  </DescribeBlueGreenDeploymentsResult>
  <ResponseMetadata><RequestId>3</RequestId></ResponseMetadata>
</DescribeBlueGreenDeploymentsResponse>"#
    )
}
