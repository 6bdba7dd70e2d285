# Dexcom Share source (CONNECT_SOURCE=dexcomshare).
NSC_DEXCOM_SOURCES =
