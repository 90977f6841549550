// Package ntstatus holds the NTSTATUS codes (MS-ERREF 2.3.1) an SMB server and its clients
// use. Status implements error; its String is the documents' name (STATUS_ACCESS_DENIED).
// Generated from spec/ntstatus by gen/cmd/smbgen.
package ntstatus
