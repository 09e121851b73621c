@echo off
rem rdsports: Windows Firewall rules (netsh) for host pki01 of deployment fabrikam.
rem Run as Administrator. Running it again first deletes every rule with the
rem name below and then adds the rules anew.
rem Inbound: 6 flows, 2 rules after aggregation.
rem These rules only allow: what they do not allow is blocked by each profile's
rem default inbound action, BlockInbound (Windows' default). The two commands
rem below show every profile's state and policy: each should say ON and
rem BlockInbound, or unplanned ports stay open.
netsh advfirewall show allprofiles state
netsh advfirewall show allprofiles firewallpolicy
netsh advfirewall firewall delete rule name="rdsports fabrikam" >nul 2>&1
rem S19: certificate revocation list retrieval over LDAP
netsh advfirewall firewall add rule name="rdsports fabrikam" dir=in action=allow enable=yes profile=any protocol=UDP localport=389 description="S19: certificate revocation list retrieval over LDAP" remoteip=203.0.113.10/31 >nul || exit /b 1
rem S19 S20: certificate revocation list retrieval over LDAP; certificate revocation list retrieval over HTTP
netsh advfirewall firewall add rule name="rdsports fabrikam" dir=in action=allow enable=yes profile=any protocol=TCP localport=80,389 description="S19 S20: certificate revocation list retrieval over LDAP; certificate revocation list retrieval over HTTP" remoteip=203.0.113.10/31 >nul || exit /b 1
exit /b 0
