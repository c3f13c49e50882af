// Package s3 is the cloud medium: an S3 bucket with Object Lock, written by
// restic's s3 backend.
//
// # What "offline" means here
//
// A bucket is never unplugged, so it is offline by immutability
// (追記不能, 疑義解釈その7): before every upload Verify reads back that
// versioning is on, Object Lock is on, the default retention is COMPLIANCE
// and at least Spec.MinRetentionDays long, and that deleting a freshly
// written canary version is refused by the server. Anything less stops
// the upload, and the ledger records the medium as NOT offline
// (lock.failed, then power.off.unverified naming the setting). With a
// relay for the uplink device, the line is also cut after the upload and
// the endpoint must stop answering; the medium is offline only when both
// hold.
//
// # Retention arithmetic
//
// Let R be the bucket's default retention (≥ MinRetentionDays = M) and S
// the span of the generations kept (config checks M ≥ S).
//
//   - Every object version restic writes is locked R days from its write.
//   - forget --prune runs as on a disk. On a versioned bucket its deletes
//     only add delete markers: the versions stay, locked, and stock restic
//     (or a restore after removing the markers) can still read them. So
//     the data kept is never less than what the lock protects, and the
//     bill counts the noncurrent versions until they age out.
//   - Packs written long ago are still needed by new snapshots, but their
//     default lock ends R days after their write. KeepLocked therefore
//     extends, after every upload, every current object whose lock would
//     end within M days to 1.5·M days from now (each object about once
//     every M/2 days). After any upload, everything the kept snapshots
//     need stays locked at least M ≥ S days.
//   - A version leaves the bucket only when its lock has ended and the
//     bucket's lifecycle rule removes it: NoncurrentVersionExpiration of
//     more days than the time it may take to notice an attack.
//
// # The bucket and the key (set up by the hospital or the vendor)
//
// Create the bucket with Object Lock, default retention COMPLIANCE ≥ M
// days, and a lifecycle rule NoncurrentVersionExpiration (e.g. 90 days)
// plus expiry of expired delete markers. The gateway's key may
// s3:ListBucket, s3:GetObject, s3:PutObject, s3:DeleteObject (delete
// markers only), s3:PutObjectRetention (limited by the condition
// s3:object-lock-remaining-retention-days to, say, 2·M), and read the
// bucket's versioning and lock configuration. It must NOT hold
// s3:DeleteObjectVersion, s3:BypassGovernanceRetention,
// s3:PutBucketVersioning, s3:PutBucketObjectLockConfiguration,
// s3:PutLifecycleConfiguration or s3:PutBucketPolicy.
//
// Credentials reach restic only through its environment (Bucket.Env), and
// a private certificate authority through --cacert; TLS verification is
// never turned off.
package s3
