@echo off
rem rdsports: Windows Firewall rules (netsh) for host pki01 of deployment fixture-passive.
rem Run as Administrator. Running it again first deletes every rule with the
rem name below and then adds the rules anew.
rem Inbound: 3 flows, 1 rules after aggregation.
rem These rules only allow: what they do not allow is blocked by each profile's
rem default inbound action, BlockInbound (Windows' default). The two commands
rem below show every profile's state and policy: each should say ON and
rem BlockInbound, or unplanned ports stay open.
netsh advfirewall show allprofiles state
netsh advfirewall show allprofiles firewallpolicy
netsh advfirewall firewall delete rule name="rdsports fixture-passive" >nul 2>&1
rem S20 S21a S21b: certificate revocation list retrieval over HTTP; certificate revocation list retrieval over FTP (control channel); certificate revocation list retrieval over FTP (passive data channel)
netsh advfirewall firewall add rule name="rdsports fixture-passive" dir=in action=allow enable=yes profile=any protocol=TCP localport=21,80,50000-50100 description="S20 S21a S21b: certificate revocation list retrieval over HTTP; certificate revocation list retrieval over FTP (control channel); certificate revocation list retrieval over FTP (passive data channel)" remoteip=198.51.100.10 >nul || exit /b 1
exit /b 0
