"""DNS: hosted zones and records, BIND export and import, NS-delegation checks, zone templates and
reverse DNS for the addresses allocated to a tenant."""
