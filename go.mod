module github.com/smbvfs/smbvfs

go 1.25.0
