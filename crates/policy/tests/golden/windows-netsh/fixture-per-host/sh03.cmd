@echo off
rem rdsports: Windows Firewall rules (netsh) for host sh03 of deployment contoso.
rem Run as Administrator. Running it again first deletes every rule with the
rem name below and then adds the rules anew.
rem Inbound: 9 flows, 3 rules after aggregation.
rem These rules only allow: what they do not allow is blocked by each profile's
rem default inbound action, BlockInbound (Windows' default). The two commands
rem below show every profile's state and policy: each should say ON and
rem BlockInbound, or unplanned ports stay open.
netsh advfirewall show allprofiles state
netsh advfirewall show allprofiles firewallpolicy
netsh advfirewall firewall delete rule name="rdsports contoso" >nul 2>&1
rem S24: RDP from the gateway to the session host or virtual desktop
netsh advfirewall firewall add rule name="rdsports contoso" dir=in action=allow enable=yes profile=any protocol=TCP localport=3390 description="S24: RDP from the gateway to the session host or virtual desktop" remoteip=198.51.100.10/31 >nul || exit /b 1
rem S10a S10b: management of session hosts and collections (SMB); management of session hosts and collections (RPC: endpoint mapper and dynamic range)
netsh advfirewall firewall add rule name="rdsports contoso" dir=in action=allow enable=yes profile=any protocol=TCP localport=135,445,49152-65535 description="S10a S10b: management of session hosts and collections (SMB); management of session hosts and collections (RPC: endpoint mapper and dynamic range)" remoteip=192.0.2.11 >nul || exit /b 1
rem S10a S10b S11: management of session hosts and collections (SMB); management of session hosts and collections (RPC: endpoint mapper and dynamic range); WinRM (WS-Management, PowerShell remoting) used by Server Manager and RDMS for administration
netsh advfirewall firewall add rule name="rdsports contoso" dir=in action=allow enable=yes profile=any protocol=TCP localport=135,445,5985,49152-65535 description="S10a S10b S11: management of session hosts and collections (SMB); management of session hosts and collections (RPC: endpoint mapper and dynamic range); WinRM (WS-Management, PowerShell remoting) used by Server Manager and RDMS for administration" remoteip=192.0.2.10 >nul || exit /b 1
exit /b 0
