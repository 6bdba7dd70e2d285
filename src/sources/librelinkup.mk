# LibreLinkUp source (CONNECT_SOURCE=linkup).
NSC_LINKUP_SOURCES =
