# plugin/: the Nightscout-side Node-API addon and the C embedding API.
# Not built yet: it arrives with issue 5.
