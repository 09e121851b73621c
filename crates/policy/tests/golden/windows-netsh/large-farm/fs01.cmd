@echo off
rem rdsports: Windows Firewall rules (netsh) for host fs01 of deployment fabrikam.
rem Run as Administrator. Running it again first deletes every rule with the
rem name below and then adds the rules anew.
rem Inbound: 200 flows, 1 rules after aggregation.
rem These rules only allow: what they do not allow is blocked by each profile's
rem default inbound action, BlockInbound (Windows' default). The two commands
rem below show every profile's state and policy: each should say ON and
rem BlockInbound, or unplanned ports stay open.
netsh advfirewall show allprofiles state
netsh advfirewall show allprofiles firewallpolicy
netsh advfirewall firewall delete rule name="rdsports fabrikam" >nul 2>&1
rem A09: User Profile Disks on an SMB share
netsh advfirewall firewall add rule name="rdsports fabrikam" dir=in action=allow enable=yes profile=any protocol=TCP localport=445 description="A09: User Profile Disks on an SMB share" remoteip=198.51.100.1,198.51.100.2/31,198.51.100.4/30,198.51.100.8/29,198.51.100.16/28,198.51.100.32/27,198.51.100.64/26,198.51.100.128/26,198.51.100.192/29,198.51.100.200 >nul || exit /b 1
exit /b 0
