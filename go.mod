module github.com/smbvfs/smbvfs

go 1.25.0

require (
	github.com/dave/jennifer v1.7.1
	github.com/gopacket/gopacket v1.7.7
	go.uber.org/mock v0.6.0
	go.yaml.in/yaml/v3 v3.0.6
)

require (
	github.com/stretchr/testify v1.12.1 // indirect
	golang.org/x/mod v0.27.0 // indirect
	golang.org/x/net v0.55.0 // indirect
	golang.org/x/sync v0.16.0 // indirect
	golang.org/x/sys v0.45.0 // indirect
	golang.org/x/tools v0.36.0 // indirect
)

tool go.uber.org/mock/mockgen
