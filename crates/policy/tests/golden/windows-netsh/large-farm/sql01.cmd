@echo off
rem rdsports: Windows Firewall rules (netsh) for host sql01 of deployment fabrikam.
rem Run as Administrator. Running it again first deletes every rule with the
rem name below and then adds the rules anew.
rem Inbound: 3 flows, 1 rules after aggregation.
rem These rules only allow: what they do not allow is blocked by each profile's
rem default inbound action, BlockInbound (Windows' default). The two commands
rem below show every profile's state and policy: each should say ON and
rem BlockInbound, or unplanned ports stay open.
netsh advfirewall show allprofiles state
netsh advfirewall show allprofiles firewallpolicy
netsh advfirewall firewall delete rule name="rdsports fabrikam" >nul 2>&1
rem A03: shared broker database for high availability (active/active)
netsh advfirewall firewall add rule name="rdsports fabrikam" dir=in action=allow enable=yes profile=any protocol=TCP localport=1433 description="A03: shared broker database for high availability (active/active)" remoteip=192.0.2.10/31,192.0.2.12 >nul || exit /b 1
exit /b 0
