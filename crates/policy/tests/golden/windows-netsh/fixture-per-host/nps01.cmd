@echo off
rem rdsports: Windows Firewall rules (netsh) for host nps01 of deployment contoso.
rem Run as Administrator. Running it again first deletes every rule with the
rem name below and then adds the rules anew.
rem Inbound: 4 flows, 1 rules after aggregation.
rem These rules only allow: what they do not allow is blocked by each profile's
rem default inbound action, BlockInbound (Windows' default). The two commands
rem below show every profile's state and policy: each should say ON and
rem BlockInbound, or unplanned ports stay open.
netsh advfirewall show allprofiles state
netsh advfirewall show allprofiles firewallpolicy
netsh advfirewall firewall delete rule name="rdsports contoso" >nul 2>&1
rem S22: RADIUS authentication and accounting to a central NPS (central RD CAP store)
netsh advfirewall firewall add rule name="rdsports contoso" dir=in action=allow enable=yes profile=any protocol=UDP localport=1812-1813 description="S22: RADIUS authentication and accounting to a central NPS (central RD CAP store)" remoteip=198.51.100.10/31 >nul || exit /b 1
exit /b 0
