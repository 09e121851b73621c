@echo off
rem rdsports: Windows Firewall rules (netsh) for host pki01 of deployment contoso.
rem Run as Administrator. Running it again first deletes every rule with the
rem name below and then adds the rules anew.
rem Inbound: 2 flows, 1 rules after aggregation.
rem These rules only allow: what they do not allow is blocked by each profile's
rem default inbound action, BlockInbound (Windows' default). The two commands
rem below show every profile's state and policy: each should say ON and
rem BlockInbound, or unplanned ports stay open.
netsh advfirewall show allprofiles state
netsh advfirewall show allprofiles firewallpolicy
netsh advfirewall firewall delete rule name="rdsports contoso" >nul 2>&1
rem S20: certificate revocation list retrieval over HTTP
netsh advfirewall firewall add rule name="rdsports contoso" dir=in action=allow enable=yes profile=any protocol=TCP localport=80 description="S20: certificate revocation list retrieval over HTTP" remoteip=198.51.100.10/31 >nul || exit /b 1
exit /b 0
